"""Reads of tenant referrals: the program's rules as a tenant sees them and a tenant's own referral figures. Every
read of figures takes the tenant; a referred workspace is never named to its referrer (another tenant's data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, Sum

from affiliates.models import Affiliate, Referral, TenantReferralReward
from tenants.models import Tenant
from tenants.urls_for import public_url

Reward = TenantReferralReward


def referral_link(*, code: str) -> str:
    """The link a referrer shares: the public site's /r/<code>, which records the click and lands on the home page."""
    return public_url(f"/r/{code}")


@dataclass(frozen=True)
class ReferralRow:
    """One referred workspace as its referrer sees it: when and how far, never which workspace it is."""

    signed_up_at: datetime
    status: str
    first_paid_at: datetime | None
    reward_status: str
    reward_text: str


@dataclass(frozen=True)
class TenantReferralSummary:
    link: str
    code: str
    signed_up: int
    paying: int
    rewards_granted: int
    credit_earned: Decimal
    tokens_earned: int
    rewards_this_year: int
    rows: list[ReferralRow]


def tenant_referral_summary(*, tenant: Tenant, account: Affiliate, now: datetime,
                            rows: int = 50) -> TenantReferralSummary:
    """The tenant's referral figures: its link, the workspaces that signed up through it and how many of them
    pay, the rewards granted (credit and tokens) and this calendar year's count against the limit."""
    referrals = Referral.objects.filter(affiliate=account, affiliate__tenant=tenant)
    # A reward decided (granted or refused) means the referred tenant paid, whatever its lifecycle says yet.
    counts = referrals.aggregate(
        signed_up=Count("pk"), paying=Count("pk", filter=Q(first_paid_at__isnull=False) | Q(reward__isnull=False)))
    granted = [Reward.Status.GRANTED, Reward.Status.EXPIRED]
    rewards = Reward.objects.filter(referrer=tenant, status__in=granted).aggregate(
        count=Count("pk"), credit=Sum("amount", filter=Q(kind=Reward.Kind.CREDIT)),
        tokens=Sum("tokens", filter=Q(kind=Reward.Kind.TOKENS)),
        this_year=Count("pk", filter=Q(granted_at__year=now.year)))
    return TenantReferralSummary(
        link=referral_link(code=account.code), code=account.code, signed_up=counts["signed_up"],
        paying=counts["paying"], rewards_granted=rewards["count"], credit_earned=rewards["credit"] or Decimal(0),
        tokens_earned=rewards["tokens"] or 0, rewards_this_year=rewards["this_year"],
        rows=[_row(referral) for referral in referrals.select_related("reward").order_by("-created_at")[:rows]])


def _row(referral: Referral) -> ReferralRow:
    reward = getattr(referral, "reward", None)
    if reward is None:
        reward_status, reward_text = "", "When it first pays"
    elif reward.status == Reward.Status.REFUSED:
        reward_status, reward_text = reward.status, reward.reason
    elif reward.kind == Reward.Kind.CREDIT:
        reward_status, reward_text = reward.status, f"{reward.amount:.2f} {reward.currency} credit"
    else:
        reward_status, reward_text = reward.status, f"{reward.tokens:,} AI tokens"
    return ReferralRow(signed_up_at=referral.created_at, status=referral.get_status_display(),
                       first_paid_at=referral.first_paid_at, reward_status=reward_status, reward_text=reward_text)
