"""What invoicing tells the rest of the platform (emails, wallet credit for token packs, commissions). Each signal
is sent once the transaction that made the change has committed, with `invoice` as its only argument, so a
receiver never acts on a change that was rolled back."""

from django.db import transaction
from django.dispatch import Signal

from billing.models import Invoice

invoice_finalized = Signal()
invoice_paid = Signal()
invoice_voided = Signal()


def invoice_event_send_on_commit(signal: Signal, *, invoice: Invoice) -> None:
    transaction.on_commit(lambda: signal.send(sender=Invoice, invoice=invoice))
