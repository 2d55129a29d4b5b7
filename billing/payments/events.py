"""What the payment rail tells the rest of the platform (dunning, notifications). Each signal is sent once per
cause, after the transaction that recorded it has committed: the payment signals with `payment` as their only
argument, payment_method_changed with `tenant_id`."""

from django.db import transaction
from django.dispatch import Signal

from billing.models import Payment

# A charge was declined, or there was no card to charge: the invoice stays open (dunning takes it from here).
payment_failed = Signal()
# The bank wants the cardholder to authenticate: `payment.action_url` is the invoice's hosted Checkout page.
payment_action_required = Signal()
# The tenant's default card changed in Stripe (a new card saved, one removed): dunning may retry at once.
payment_method_changed = Signal()


def payment_event_send_on_commit(signal: Signal, *, payment: Payment) -> None:
    transaction.on_commit(lambda: signal.send(sender=Payment, payment=payment))
