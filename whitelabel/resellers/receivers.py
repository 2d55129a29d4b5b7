"""Billing's events, heard by reseller billing (connected in whitelabel.apps). Billing sends each after its
transaction committed and knows nothing of white-label; a receiver failing is logged, never raised into billing's
caller (which goes on to its other receivers)."""

from __future__ import annotations

import logging

from django.dispatch import receiver
from django.utils import timezone

from billing.invoicing.events import invoice_consolidated, invoice_voided
from whitelabel.resellers.services import reseller_invoice_follow_void, reseller_invoice_issue

logger = logging.getLogger(__name__)


@receiver(invoice_consolidated, dispatch_uid="whitelabel.reseller_invoice_issue")
def invoice_consolidated_received(sender, invoice, **kwargs) -> None:
    try:
        reseller_invoice_issue(invoice=invoice, now=timezone.now())
    except Exception:
        logger.exception("reseller_invoice_issue_failed invoice=%s", invoice.pk)


@receiver(invoice_voided, dispatch_uid="whitelabel.reseller_invoice_follow_void")
def invoice_voided_received(sender, invoice, **kwargs) -> None:
    try:
        reseller_invoice_follow_void(invoice=invoice, now=timezone.now())
    except Exception:
        logger.exception("reseller_invoice_follow_void_failed invoice=%s", invoice.pk)
