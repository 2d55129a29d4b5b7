"""The portal's figures for one affiliate: one SQL aggregate per figure group, each filtered by the affiliate.

Conversion rates: clicks → signups is signups over clicks; signups → paying is the referred tenants that ever
paid (first_paid_at set, churned ones included) over signups. Both are None while the denominator is zero."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import quote

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from affiliates.models import Affiliate, Commission, Payout, Referral, ReferralClick
from tenants.urls_for import public_url

PERCENT_PLACES = Decimal("0.1")


@dataclass(frozen=True)
class PortalFigures:
    clicks: int
    signups: int
    trialing: int
    paying: int
    churned: int
    ever_paid: int
    click_to_signup: Decimal | None
    signup_to_paying: Decimal | None


@dataclass(frozen=True)
class CommissionTotal:
    status: str
    label: str
    currency: str
    amount: Decimal
    count: int


@dataclass(frozen=True)
class MonthSeries:
    months: list[date]
    clicks: list[Decimal]
    signups: list[Decimal]
    commissions: list[Decimal]
    currency: str


def portal_figures(*, affiliate: Affiliate) -> PortalFigures:
    clicks = ReferralClick.objects.filter(affiliate=affiliate).count()
    counts = Referral.objects.filter(affiliate=affiliate).aggregate(
        signups=Count("pk"),
        trialing=Count("pk", filter=Q(status=Referral.Status.TRIALING)),
        paying=Count("pk", filter=Q(status=Referral.Status.PAYING)),
        churned=Count("pk", filter=Q(status=Referral.Status.CHURNED)),
        ever_paid=Count("pk", filter=Q(first_paid_at__isnull=False)))
    return PortalFigures(clicks=clicks, **counts, click_to_signup=_percent(counts["signups"], clicks),
                         signup_to_paying=_percent(counts["ever_paid"], counts["signups"]))


def commission_totals(*, affiliate: Affiliate) -> list[CommissionTotal]:
    """What the affiliate has per status and currency (adjustments net into their status), in the statuses'
    order: pending, approved, held, paid, reversed."""
    labels = dict(Commission.Status.choices)
    order = list(labels)
    rows = (Commission.objects.filter(affiliate=affiliate).values("status", "currency")
            .annotate(amount=Sum("amount"), count=Count("pk")))
    totals = [CommissionTotal(status=row["status"], label=labels[row["status"]], currency=row["currency"],
                              amount=row["amount"], count=row["count"]) for row in rows]
    return sorted(totals, key=lambda total: (order.index(total.status), total.currency))


def commission_list(*, affiliate: Affiliate, status: str | None = None) -> QuerySet[Commission]:
    """The affiliate's commissions, newest first, with the invoice they come from (its number and month)."""
    commissions = Commission.objects.filter(affiliate=affiliate).select_related("invoice", "payout")
    if status:
        commissions = commissions.filter(status=status)
    return commissions.order_by("-created_at", "-pk")


def payout_list(*, affiliate: Affiliate) -> QuerySet[Payout]:
    return Payout.objects.filter(affiliate=affiliate).annotate(commission_count=Count("commissions"))


def month_series(*, affiliate: Affiliate, months: Sequence[date], currency: str) -> MonthSeries:
    """Clicks, signups and commissions earned (net of adjustments, in `currency`) per calendar month (UTC),
    for the months given (each the first day of its month)."""
    start = datetime(months[0].year, months[0].month, 1, tzinfo=UTC)

    def per_month(rows: QuerySet, field: str) -> dict[date, Decimal]:
        return {row["month"].date(): Decimal(row["value"] or 0) for row in
                rows.filter(**{f"{field}__gte": start}).annotate(month=TruncMonth(field)).values("month")
                .annotate(value=_value_of(rows)).order_by("month")}

    clicks = per_month(ReferralClick.objects.filter(affiliate=affiliate), "created_at")
    signups = per_month(Referral.objects.filter(affiliate=affiliate), "created_at")
    earned = per_month(Commission.objects.filter(affiliate=affiliate, currency=currency), "created_at")
    return MonthSeries(months=list(months), clicks=[clicks.get(month, Decimal(0)) for month in months],
                       signups=[signups.get(month, Decimal(0)) for month in months],
                       commissions=[earned.get(month, Decimal(0)) for month in months], currency=currency)


def main_currency(*, affiliate: Affiliate, default: str) -> str:
    """The currency most of the affiliate's commissions are in (its charts are drawn in it), else `default`."""
    row = (Commission.objects.filter(affiliate=affiliate).values("currency").annotate(n=Count("pk"))
           .order_by("-n", "currency").first())
    return row["currency"] if row else default


def affiliate_link(*, code: str, to: str = "/") -> str:
    """The tracked link to a page of the public site: /r/<code>, with ?to=<path> for any page but the home page."""
    link = public_url(f"/r/{code}")
    return link if to in ("", "/") else f"{link}?to={quote(to, safe='/')}"


def affiliate_ref_link(*, code: str) -> str:
    """The home page with ?ref=<code>: the other form of link the program gives."""
    return public_url(f"/?ref={quote(code)}")


def _value_of(rows: QuerySet):
    return Sum("amount") if rows.model is Commission else Count("pk")


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)
