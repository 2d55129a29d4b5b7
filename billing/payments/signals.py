"""The payment rail's receivers on invoicing's events: a finalised invoice collected by Stripe is charged by a
task, enqueued once the invoice is committed (invoicing sends its signals after commit).

The signals the rail itself sends live in billing.payments.events, beside the payment ones: invoice_disputed and
invoice_dispute_closed are where apps above billing (affiliates' commission holds) hang their receivers."""

from django.dispatch import receiver

from billing.invoicing.events import invoice_finalized
from billing.models import Invoice
from billing.payments.services import STRIPE_COLLECTION
from billing.payments.stripe_api import stripe_enabled
from billing.payments.tasks import invoice_charge_task

FIRST_ATTEMPT = 1


@receiver(invoice_finalized, dispatch_uid="billing.payments:invoice_finalized_charge")
def invoice_finalized_charge(sender, invoice: Invoice, **kwargs) -> None:
    if stripe_enabled() and invoice.collection_method == STRIPE_COLLECTION and invoice.status == Invoice.Status.OPEN:
        invoice_charge_task.delay(invoice_id=invoice.pk, attempt=FIRST_ATTEMPT)
