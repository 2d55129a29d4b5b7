"""Moving commissions in and out of `held`, and reversing them: the one place that does, for disputes, fraud flags
and ops alike. Only commissions not yet in a payout change here; a commission already paid out is corrected by a
negative adjustment netted from the next payout instead (affiliates.commissions.services)."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import QuerySet, Sum

from affiliates.fraud.selectors import fraud_flags_holding
from affiliates.models import Commission
from config.money import Money, money_round

logger = logging.getLogger(__name__)

Status = Commission.Status
# held_reason of a commission held by an open dispute on its invoice (its dispute's id follows).
DISPUTE_HOLD = "Dispute "
# held_reason of a commission ops held by hand: only an ops approval releases it.
OPS_HOLD = "Held by ops: "
UNPAID_STATUSES = (Status.PENDING, Status.APPROVED, Status.HELD)


def commissions_unpaid(commissions: QuerySet[Commission]) -> QuerySet[Commission]:
    """Those of `commissions` not in a payout and not reversed: what a hold, a release or a reversal may change."""
    return commissions.filter(payout__isnull=True, status__in=UNPAID_STATUSES)


def commissions_hold(*, commissions: QuerySet[Commission], reason: str) -> int:
    """Hold the pending and approved ones of `commissions` that are not in a payout, with `reason` (one that is
    already held keeps its first reason); returns how many."""
    held = commissions.filter(payout__isnull=True, status__in=(Status.PENDING, Status.APPROVED)).update(
        status=Status.HELD, held_reason=reason[:300], approved_at=None)
    if held:
        logger.info("commissions_held count=%s reason=%r", held, reason)
    return held


@transaction.atomic
def commissions_release(*, commissions: QuerySet[Commission], now: datetime, dispute_closed: bool = False) -> int:
    """Release the held ones of `commissions` that nothing holds any more: pending until their payable_at, approved
    after. A commission still covered by an open fraud flag stays held (with that flag's reason), and one held by
    a dispute stays held unless `dispute_closed` (the caller is closing that dispute); one ops held by hand stays
    held until ops approve it. Returns how many."""
    released = 0
    held = commissions.filter(status=Status.HELD, payout__isnull=True).exclude(held_reason__startswith=OPS_HOLD)
    for commission in held.select_for_update():
        flag = fraud_flags_holding(commission=commission).first()
        if flag is not None:
            commission.held_reason = flag.reason[:300]
            commission.save(update_fields=["held_reason"])
            continue
        if commission.held_reason.startswith(DISPUTE_HOLD) and not dispute_closed:
            continue
        payable = commission.payable_at <= now
        commission.status = Status.APPROVED if payable else Status.PENDING
        commission.approved_at = now if payable else None
        commission.held_reason = ""
        commission.save(update_fields=["status", "approved_at", "held_reason"])
        released += 1
    if released:
        logger.info("commissions_released count=%s", released)
    return released


def commissions_reverse(*, commissions: QuerySet[Commission], now: datetime) -> int:
    """Reverse the ones of `commissions` not yet in a payout (they will never be paid); returns how many."""
    reversed_count = commissions_unpaid(commissions).update(status=Status.REVERSED, reversed_at=now, approved_at=None)
    if reversed_count:
        logger.info("commissions_reversed count=%s", reversed_count)
    return reversed_count


@transaction.atomic
def commission_claw_back(*, earned: Commission, share: Decimal | None, source_key: str,
                         now: datetime) -> Commission | None:
    """A negative adjustment of `earned` (an earned commission) keyed `source_key`, exactly once: `share` (0 to 1)
    of its amount rounded half up to the cent, or all that is left of it when None, and never more than what its
    earlier adjustments left. Returns it, or None when nothing is left to take (or `earned` was reversed).

    Not yet paid out, the adjustment shares `earned`'s fate (its status, holding and hold reason), so the two are
    paid, held or reversed together and net out in one payout. Already paid out, the adjustment is approved at once
    and netted from the affiliate's next payout (a payout is never negative: it waits until it is covered)."""
    existing = Commission.objects.filter(source_key=source_key).first()
    if existing is not None:
        return existing
    if earned.status == Status.REVERSED:
        return None
    adjusted = (Commission.objects.filter(kind=Commission.Kind.ADJUSTMENT, invoice_id=earned.invoice_id,
                                          affiliate_id=earned.affiliate_id).exclude(status=Status.REVERSED)
                .aggregate(total=Sum("amount"))["total"] or Decimal(0))
    remaining = earned.amount + adjusted
    wanted = remaining if share is None else _cents(earned.amount * min(share, Decimal(1)), earned.currency)
    amount = min(wanted, remaining)
    if amount <= 0:
        return None
    base = earned.base_amount if share is None else _cents(earned.base_amount * min(share, Decimal(1)),
                                                           earned.currency)
    paid_out = earned.payout_id is not None
    adjustment = Commission(
        affiliate_id=earned.affiliate_id, referral_id=earned.referral_id, invoice_id=earned.invoice_id,
        kind=Commission.Kind.ADJUSTMENT, source_key=source_key, base_amount=-base, rate=earned.rate, amount=-amount,
        currency=earned.currency, status=Status.APPROVED if paid_out else earned.status,
        held_reason="" if paid_out else earned.held_reason, payable_at=now if paid_out else earned.payable_at,
        created_at=now, approved_at=now if paid_out else earned.approved_at)
    try:
        with transaction.atomic():
            adjustment.save()
    except IntegrityError:
        # The same cause delivered twice at once: the other one wrote it.
        return Commission.objects.get(source_key=source_key)
    logger.info("commission_adjusted commission=%s earned=%s amount=%s currency=%s source=%s paid_out=%s",
                adjustment.pk, earned.pk, adjustment.amount, adjustment.currency, source_key, paid_out)
    return adjustment


def _cents(amount: Decimal, currency: str) -> Decimal:
    return money_round(Money(amount, currency)).amount
