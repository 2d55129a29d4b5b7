"""Billing's events, heard by the commission engine (connected in affiliates.apps). Billing sends each after its
transaction committed and knows nothing of affiliates; a receiver failing is logged and left to the catch-up sweep
(paid invoices) or to ops, never raised into billing's caller."""

from __future__ import annotations

import logging

from django.dispatch import receiver
from django.utils import timezone

from affiliates.commissions.services import (
    commission_credit_note_adjust,
    commission_dispute_close,
    commission_dispute_hold,
    commission_earn,
)
from billing.invoicing.events import credit_note_issued, invoice_paid
from billing.payments.events import invoice_dispute_closed, invoice_disputed

logger = logging.getLogger(__name__)


@receiver(invoice_paid, dispatch_uid="affiliates.commission_earn")
def invoice_paid_received(sender, invoice, **kwargs) -> None:
    try:
        commission_earn(invoice=invoice, now=timezone.now())
    except Exception:
        logger.exception("commission_earn_failed invoice=%s (the sweep will retry it)", invoice.pk)


@receiver(credit_note_issued, dispatch_uid="affiliates.commission_credit_note_adjust")
def credit_note_issued_received(sender, credit_note, **kwargs) -> None:
    try:
        commission_credit_note_adjust(credit_note=credit_note, now=timezone.now())
    except Exception:
        logger.exception("commission_credit_note_adjust_failed credit_note=%s", credit_note.pk)


@receiver(invoice_disputed, dispatch_uid="affiliates.commission_dispute_hold")
def invoice_disputed_received(sender, invoice, dispute, **kwargs) -> None:
    try:
        commission_dispute_hold(invoice=invoice, dispute=dispute, now=timezone.now())
    except Exception:
        logger.exception("commission_dispute_hold_failed invoice=%s dispute=%s", invoice.pk, dispute.pk)


@receiver(invoice_dispute_closed, dispatch_uid="affiliates.commission_dispute_close")
def invoice_dispute_closed_received(sender, invoice, dispute, won, **kwargs) -> None:
    try:
        commission_dispute_close(invoice=invoice, dispute=dispute, won=won, now=timezone.now())
    except Exception:
        logger.exception("commission_dispute_close_failed invoice=%s dispute=%s", invoice.pk, dispute.pk)
