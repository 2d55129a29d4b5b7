"""What invoicing tells the rest of the platform (emails, wallet credit for token packs, commissions). Each signal
is sent once the transaction that made the change has committed, with `invoice` as its only argument, so a
receiver never acts on a change that was rolled back."""

from django.db import transaction
from django.dispatch import Signal

from billing.models import CreditNote, Invoice

invoice_finalized = Signal()
invoice_paid = Signal()
invoice_voided = Signal()
# A credit note (a refund to the card or to the account credit, or a correction) was issued against a finalised
# invoice: sent once per credit note with `credit_note` as its only argument. Affiliates reduce the commission
# earned on its invoice in proportion.
credit_note_issued = Signal()
# A client invoice of a tenant billed through a payer (reseller mode: billing.consolidation) was finalised: it is
# never charged to nor emailed to the client, the payer's consolidated wholesale invoice carries it. Sent once per
# invoice, with `invoice` as its only argument, instead of invoice_finalized (whose receivers email and charge);
# its settlement through the payer sends no invoice_paid either. White-label invoices the client at the
# reseller's own prices.
invoice_consolidated = Signal()


def invoice_event_send_on_commit(signal: Signal, *, invoice: Invoice) -> None:
    transaction.on_commit(lambda: signal.send(sender=Invoice, invoice=invoice))


def credit_note_event_send_on_commit(signal: Signal, *, credit_note: CreditNote) -> None:
    transaction.on_commit(lambda: signal.send(sender=CreditNote, credit_note=credit_note))
