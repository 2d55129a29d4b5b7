"""Reads on subscriptions: the tenant's current one, its history, its unbilled items, and what stands in the way of
a plan (current use above the plan's limits). Every read takes the tenant."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django_tenants.utils import schema_context

from accounts.selectors import member_list
from billing.models import (
    CURRENT_STATUSES,
    BillingProfile,
    CouponRedemption,
    PendingInvoiceItem,
    Plan,
    Subscription,
    SubscriptionEvent,
)
from tenants.models import Tenant
from tenants.selectors import custom_domain_count, tenant_client_list


@dataclass(frozen=True)
class LimitBlocker:
    """One thing the tenant must change before a plan or seat count can apply: `limit` names it (seats,
    custom_domains, client_tenants), `allowed` is what the target allows, `in_use` what the tenant has now."""

    limit: str
    allowed: int
    in_use: int
    message: str

    def as_dict(self) -> dict:
        return {"limit": self.limit, "allowed": self.allowed, "in_use": self.in_use, "message": self.message}


def subscription_current(*, tenant: Tenant) -> Subscription | None:
    """The tenant's current subscription (trialing, active, past due or paused), if any: at most one exists."""
    return (Subscription.objects.select_related("plan", "price", "price__plan", "scheduled_price")
            .filter(tenant=tenant, status__in=CURRENT_STATUSES).first())


def subscription_events(*, tenant: Tenant) -> QuerySet[SubscriptionEvent]:
    """Every change to the tenant's subscriptions, newest first."""
    return SubscriptionEvent.objects.filter(tenant=tenant).order_by("-created_at", "-id")


def subscription_pending_items(*, tenant: Tenant, subscription: Subscription) -> QuerySet[PendingInvoiceItem]:
    """The subscription's items not yet on an invoice, oldest first."""
    return PendingInvoiceItem.objects.filter(tenant=tenant, subscription=subscription, invoice__isnull=True)


def trial_converts(*, subscription: Subscription) -> bool:
    """Whether the trial converts into a paid period when it ends (rather than end canceled, or expire to Free
    because the plan needs a payment method the tenant lacks): what the trial's end does, and what the upcoming
    invoice of a trial previews."""
    if subscription.cancel_at_period_end:
        return False
    if not subscription.plan.payment_method_required:
        return True
    # Manual collection approved by ops is the only payment method until Stripe arrives.
    return BillingProfile.objects.filter(tenant_id=subscription.tenant_id, manual_collection_approved=True).exists()


def plan_limit_blockers(*, tenant: Tenant, plan: Plan, quantity: int) -> list[LimitBlocker]:
    """What the tenant uses now beyond what `plan` with `quantity` seats allows: active members beyond the plan's
    seats or the seat count, custom domains beyond the plan's, client workspaces on a plan without them. Empty
    when the plan fits."""
    blockers = []
    members = _active_member_count(tenant)
    seat_limit = quantity if plan.seats is None else min(plan.seats, quantity)
    if members > seat_limit:
        blockers.append(LimitBlocker(
            limit="seats", allowed=seat_limit, in_use=members,
            message=f"Remove {members - seat_limit} team member(s): {seat_limit} seat(s) allowed, {members} in use."))
    if plan.seats is not None and quantity > plan.seats:
        blockers.append(LimitBlocker(
            limit="seats", allowed=plan.seats, in_use=quantity,
            message=f"{plan.name} allows at most {plan.seats} seat(s); choose {plan.seats} or fewer."))
    domains = custom_domain_count(tenant=tenant)
    if domains > plan.custom_domains:
        blockers.append(LimitBlocker(
            limit="custom_domains", allowed=plan.custom_domains, in_use=domains,
            message=f"Remove {domains - plan.custom_domains} custom domain(s): {plan.name} allows "
                    f"{plan.custom_domains}."))
    clients = tenant_client_list(agency=tenant).count()
    if clients and not plan.client_tenants:
        blockers.append(LimitBlocker(
            limit="client_tenants", allowed=0, in_use=clients,
            message=f"Detach your {clients} client workspace(s): {plan.name} has no client workspaces."))
    return blockers


def _active_member_count(tenant: Tenant) -> int:
    # Staff live in the tenant's own schema.
    with schema_context(tenant.schema_name):
        return member_list().count()




def coupon_redeemed(*, tenant: Tenant, coupon_id: int) -> bool:
    """Whether the tenant ever had this coupon on any of its subscriptions (ended redemptions count)."""
    return CouponRedemption.objects.filter(tenant=tenant, coupon_id=coupon_id).exists()
