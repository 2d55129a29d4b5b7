"""Reads on fraud flags: which open flags hold a commission."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from affiliates.models import Commission, FraudFlag


def fraud_flags_holding(*, commission: Commission) -> QuerySet[FraudFlag]:
    """The open flags that hold `commission`: one on its invoice's commission, one on its referral, or one on its
    affiliate as a whole (no referral, no commission)."""
    return FraudFlag.objects.filter(status=FraudFlag.Status.OPEN, affiliate_id=commission.affiliate_id).filter(
        Q(commission__invoice_id=commission.invoice_id)
        | Q(commission__isnull=True, referral_id=commission.referral_id)
        | Q(commission__isnull=True, referral__isnull=True)).order_by("created_at", "pk")


def fraud_flag_commissions(*, flag: FraudFlag) -> QuerySet[Commission]:
    """The commissions `flag` covers: its commission's invoice (the earned one and its adjustments), else its
    referral's, else all of its affiliate's."""
    commissions = Commission.objects.filter(affiliate_id=flag.affiliate_id)
    if flag.commission_id is not None:
        return commissions.filter(invoice_id=flag.commission.invoice_id)
    if flag.referral_id is not None:
        return commissions.filter(referral_id=flag.referral_id)
    return commissions
