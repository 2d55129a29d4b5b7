"""What the payment rail tells the rest of the platform (dunning, notifications, and apps above billing such as
affiliates). Each signal is sent once per cause, after the transaction that recorded it has committed: the payment
signals with `payment` as their only argument, payment_method_changed with `tenant_id`, the dispute signals with
`invoice` and `dispute` (and `won`)."""

from django.db import transaction
from django.dispatch import Signal

from billing.models import Dispute, Invoice, Payment

# A charge was declined, or there was no card to charge: the invoice stays open (dunning takes it from here).
payment_failed = Signal()
# The bank wants the cardholder to authenticate: `payment.action_url` is the invoice's hosted Checkout page.
payment_action_required = Signal()
# The tenant's default card changed in Stripe (a new card saved, one removed): dunning may retry at once.
payment_method_changed = Signal()

# A cardholder's bank disputed the card payment of `invoice` (`dispute`, a billing Dispute): sent once per dispute,
# when we first hear of it. The seam for whatever depends on the money staying with us: affiliates hold the
# commission earned on the invoice until invoice_dispute_closed says how it ended.
invoice_disputed = Signal()
# The dispute ended: `won` is True when the money stays with us (won, or an inquiry closed without a chargeback),
# False when the bank took it back (the invoice shows "Dispute lost"). Sent once per dispute, always after its
# invoice_disputed, even when the first we hear of a dispute is that it closed.
invoice_dispute_closed = Signal()


def payment_event_send_on_commit(signal: Signal, *, payment: Payment) -> None:
    transaction.on_commit(lambda: signal.send(sender=Payment, payment=payment))


def dispute_event_send_on_commit(signal: Signal, *, invoice: Invoice, dispute: Dispute, **extra) -> None:
    transaction.on_commit(lambda: signal.send(sender=Invoice, invoice=invoice, dispute=dispute, **extra))
