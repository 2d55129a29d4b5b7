"""Disputes (chargebacks) on our card payments, recorded once per dp_ from Stripe's own view of them.

charge.dispute.created / .updated / .closed (and .funds_withdrawn / .funds_reinstated) all come through
`dispute_apply`, with the Dispute dj-stripe re-fetched from Stripe for the delivery: one Dispute row per dp_,
linked to the tenant, invoice and payment through the disputed PaymentIntent (our Payment). Whatever the order
the events come in, a dispute is opened once (StripeSettlement DISPUTE_OPENED: ops are told, invoice_disputed is
sent) and closed once (DISPUTE_CLOSED: invoice_dispute_closed with whether we won); a closed dispute is never
reopened by an older view of it. The tenant's owners are not told by us: their bank and Stripe do that."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from djstripe.models import Charge as StripeChargeRecord

from billing.models import Dispute, Payment, StripeSettlement
from billing.payments.events import dispute_event_send_on_commit, invoice_dispute_closed, invoice_disputed
from billing.payments.services import settlement_record
from billing.payments.stripe_api import StripeDispute
from config.money import Money, money_format
from notifications.categories import Category
from notifications.services import notify_ops

logger = logging.getLogger(__name__)

Kind = StripeSettlement.Kind
# Closed and the money stays with us: a won dispute, or an inquiry (warning_*) that never became a chargeback.
WON = (Dispute.Status.WON, Dispute.Status.WARNING_CLOSED)


@transaction.atomic
def dispute_apply(*, dispute: StripeDispute, now: datetime, event_id: str = "") -> Dispute:
    """Bring our Dispute row to where Stripe's dispute stands and tell, once each, that it opened and closed.
    Safe to call any number of times, in any order: the row is locked and each announcement is keyed by the dp_."""
    row = _row_locked(dispute, now=now)
    _status_update(row, dispute, now=now)
    amount = Money(row.amount, row.currency)
    common = {"stripe_id": row.dispute_id, "tenant_id": row.tenant_id, "invoice_id": row.invoice_id,
              "payment": row.payment, "amount": amount, "event_id": event_id, "now": now}
    if settlement_record(kind=Kind.DISPUTE_OPENED, **common, detail={"reason": row.reason}):
        _opened_tell(row, now=now)
    if not row.is_open and settlement_record(kind=Kind.DISPUTE_CLOSED, **common, detail={"status": row.status}):
        _closed_tell(row, now=now)
    return row


def _row_locked(dispute: StripeDispute, *, now: datetime) -> Dispute:
    row = Dispute.objects.select_for_update(of=("self",)).select_related("invoice", "tenant").filter(
        dispute_id=dispute.id).first()
    if row is not None:
        return row
    payment = _payment_of(dispute)
    try:
        with transaction.atomic():
            Dispute.objects.create(
                dispute_id=dispute.id, charge_id=dispute.charge_id or "",
                payment_intent_id=(payment.payment_intent_id if payment else dispute.payment_intent_id) or "",
                tenant_id=payment.tenant_id if payment else None, invoice_id=payment.invoice_id if payment else None,
                payment=payment, amount=dispute.amount.amount, currency=dispute.amount.currency,
                reason=dispute.reason[:50], status=dispute.status, evidence_due_by=_at(dispute.evidence_due_by),
                opened_at=_at(dispute.created) or now, updated_at=now)
    except IntegrityError:
        pass  # recorded by a concurrent delivery, which committed first: take its row
    return Dispute.objects.select_for_update(of=("self",)).select_related("invoice", "tenant").get(
        dispute_id=dispute.id)


def _payment_of(dispute: StripeDispute) -> Payment | None:
    """Our payment the dispute is about: by its PaymentIntent, else by the charge's (dj-stripe's row of it)."""
    intent_id = dispute.payment_intent_id
    if not intent_id and dispute.charge_id:
        charge = StripeChargeRecord.objects.filter(id=dispute.charge_id).only("stripe_data").first()
        intent = (charge.stripe_data.get("payment_intent") if charge else None) or None
        intent_id = intent.get("id") if isinstance(intent, dict) else intent
    return Payment.objects.filter(payment_intent_id=intent_id).first() if intent_id else None


def _status_update(row: Dispute, dispute: StripeDispute, *, now: datetime) -> None:
    if not row.is_open and dispute.status not in Dispute.CLOSED_STATUSES:
        logger.info("stripe_dispute_stale dispute=%s ours=%s stripe=%s", row.dispute_id, row.status, dispute.status)
        return
    changed = row.status != dispute.status
    row.status = dispute.status
    if not row.is_open and row.closed_at is None:
        row.closed_at, changed = now, True
    due = _at(dispute.evidence_due_by)
    if due is not None and due != row.evidence_due_by:
        row.evidence_due_by, changed = due, True
    if changed:
        row.updated_at = now
        row.save(update_fields=["status", "evidence_due_by", "closed_at", "updated_at"])


def _opened_tell(row: Dispute, *, now: datetime) -> None:
    whose = f"{row.tenant.name}, invoice {row.invoice.number}" if row.invoice else "a payment not ours"
    due = f" Evidence is due by {row.evidence_due_by:%d %b %Y}." if row.evidence_due_by else ""
    notify_ops(category=Category.PAYMENT_ALERT, cause=f"dispute_opened:{row.dispute_id}",
               title=f"Payment disputed: {money_format(Money(row.amount, row.currency))} ({whose})",
               body=f"The cardholder's bank disputed charge {row.charge_id} (reason: {row.reason or 'none given'})."
                    f"{due} Answer it in Stripe's dashboard.",
               link=f"/admin/billing/dispute/{row.pk}/change/", now=now)
    if row.invoice is not None:
        dispute_event_send_on_commit(invoice_disputed, invoice=row.invoice, dispute=row)
    logger.warning("stripe_dispute_opened dispute=%s invoice=%s", row.dispute_id, row.invoice_id)


def _closed_tell(row: Dispute, *, now: datetime) -> None:
    won = row.status in WON
    if not won:
        notify_ops(category=Category.PAYMENT_ALERT, cause=f"dispute_lost:{row.dispute_id}",
                   title=f"Dispute lost: {money_format(Money(row.amount, row.currency))}",
                   body=f"The bank took back charge {row.charge_id}"
                        + (f" (invoice {row.invoice.number})." if row.invoice else "."),
                   link=f"/admin/billing/dispute/{row.pk}/change/", now=now)
    if row.invoice is not None:
        dispute_event_send_on_commit(invoice_dispute_closed, invoice=row.invoice, dispute=row, won=won)
    logger.info("stripe_dispute_closed dispute=%s status=%s", row.dispute_id, row.status)


def _at(timestamp: int | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, tz=UTC) if timestamp else None
