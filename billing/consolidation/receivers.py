"""Reseller mode's receivers (connected in billing.apps): the payer's consolidated invoice saved paid or void
settles or releases the client invoices it carries, inside the transaction that saved it (like token packs:
the payer's payment and its clients' settlement commit together or not at all)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from billing.consolidation.services import carried_invoices_settle
from billing.models import Invoice


@receiver(post_save, sender=Invoice, dispatch_uid="billing.consolidation:carried_invoices_settle")
def payer_invoice_saved(sender, instance: Invoice, update_fields=None, **kwargs) -> None:
    # Only saves that may change the status (a paid invoice's credit notes save it again, and settle nothing).
    if update_fields is None or "status" in update_fields:
        carried_invoices_settle(payer_invoice=instance)
