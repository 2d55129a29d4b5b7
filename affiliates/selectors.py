"""Reads of the program's affiliates: the route of a referral code (cached, read on every click), the affiliate of
a signed-in user, and the figures ops see per affiliate."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from affiliates.models import Affiliate, Referral, ReferralClick
from config.lookup_cache import lookup_cached, lookup_key


@dataclass(frozen=True)
class AffiliateRoute:
    """What a click needs of the affiliate behind a code."""

    affiliate_id: int
    code: str
    active: bool


def affiliate_route_key(code: str) -> str:
    return lookup_key("affiliate-code", code)


def affiliate_route(code: str) -> AffiliateRoute | None:
    """The affiliate a referral code names, or None for a code nobody has. Known codes come from the per-process
    lookup cache (forgotten when the affiliate is saved); unknown ones are not cached, so random codes cannot
    crowd the cache (each costs one indexed read)."""
    code = code.strip().lower()
    if not code or len(code) > 40:
        return None

    def load() -> AffiliateRoute | None:
        row = Affiliate.objects.filter(code=code).values_list("pk", "status").first()
        if row is None:
            return None
        return AffiliateRoute(affiliate_id=row[0], code=code, active=row[1] == Affiliate.Status.ACTIVE)

    return lookup_cached(affiliate_route_key(code), load)


def affiliate_for_user(user) -> Affiliate | None:
    """The active affiliate account of a signed-in public-host user. Never an ops account's (ops are is_staff and
    are never given an affiliate), nor a suspended affiliate's."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.is_staff or user.is_superuser:
        return None
    return (Affiliate.objects.filter(user_id=user.pk, kind=Affiliate.Kind.AFFILIATE, status=Affiliate.Status.ACTIVE)
            .first())


def affiliate_by_promotion_code(code: str) -> Affiliate | None:
    code = code.strip()
    if not code:
        return None
    return Affiliate.objects.filter(promotion_code__iexact=code).first()


def clicks_per_day(*, affiliate_id: int | None = None, since: date | None = None) -> list[dict]:
    """Clicks counted per affiliate and day (one SQL aggregate): [{"affiliate_id", "day", "clicks"}...]."""
    clicks = ReferralClick.objects.all()
    if affiliate_id is not None:
        clicks = clicks.filter(affiliate_id=affiliate_id)
    if since is not None:
        clicks = clicks.filter(created_at__date__gte=since)
    return list(clicks.annotate(day=TruncDate("created_at")).values("affiliate_id", "day")
                .annotate(clicks=Count("pk")).order_by("-day", "affiliate_id"))


def affiliate_stats(affiliate_id: int) -> dict[str, int]:
    """Clicks and referrals by status of one affiliate."""
    counts = Referral.objects.filter(affiliate_id=affiliate_id).aggregate(
        signups=Count("pk"),
        trialing=Count("pk", filter=Q(status=Referral.Status.TRIALING)),
        paying=Count("pk", filter=Q(status=Referral.Status.PAYING)),
        churned=Count("pk", filter=Q(status=Referral.Status.CHURNED)),
    )
    counts["clicks"] = ReferralClick.objects.filter(affiliate_id=affiliate_id).count()
    return counts
