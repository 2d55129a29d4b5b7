"""Reads on the plan catalogue. `entitlements_for` is the one place anything asks what a tenant may use."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from billing.models import CURRENT_STATUSES, Plan, PlanQuota, Subscription, TenantPlan
from config.lookup_cache import lookup_cached, lookup_key
from tenants.models import Tenant


@dataclass(frozen=True)
class Quota:
    meter_code: str
    monthly_limit: Decimal
    hard: bool


@dataclass(frozen=True)
class Entitlements:
    plan_code: str
    plan_name: str
    api_requests_per_minute_per_key: int | None
    api_requests_per_minute_per_tenant: int | None
    concurrent_ai_requests: int | None
    monthly_ai_token_allowance: int
    seats: int | None
    custom_domains: int
    team: bool
    sso: bool
    white_label: bool
    client_tenants: bool
    quotas: dict[str, Quota] = field(default_factory=dict)

    def quota_for(self, meter_code: str) -> Quota | None:
        return self.quotas.get(meter_code)


def entitlements_for(*, tenant: Tenant, now: datetime | None = None) -> Entitlements:
    """What the tenant may use now. From its current subscription: trialing or active, its plan; past due, its
    plan for BILLING_PAST_DUE_GRACE_DAYS after it fell due, then Free until paid; paused, Free. Without a
    current subscription, the plan ops assigned (TenantPlan), else Free.

    Read on every API request, so served from the per-process lookup cache; the subscription services and
    billing.signals forget it when a subscription, a plan, its quotas or an assignment change. The end of the
    grace period is not a change anybody saves, so the cached value holds both answers and the instant
    between them, and the clock (`now`, default the current time) picks one on every read."""
    grant = lookup_cached(entitlements_key(tenant.pk), lambda: _grant_load(tenant))
    if grant.until is not None and (now or timezone.now()) >= grant.until:
        return grant.after
    return grant.entitlements


def entitlements_key(tenant_id: int) -> str:
    return lookup_key("entitlements", tenant_id)


@dataclass(frozen=True)
class _Grant:
    """The entitlements that apply until `until` (forever when None), and those that apply from then on."""

    entitlements: Entitlements
    until: datetime | None = None
    after: Entitlements | None = None


def _grant_load(tenant: Tenant) -> _Grant:
    subscription = (Subscription.objects.select_related("plan").filter(tenant=tenant, status__in=CURRENT_STATUSES)
                    .first())
    if subscription is None:
        assignment = TenantPlan.objects.select_related("plan").filter(tenant=tenant).first()
        return _Grant(_entitlements_of(assignment.plan if assignment else _free_plan()))
    if subscription.status == Subscription.Status.PAUSED:
        return _Grant(_entitlements_of(_free_plan()))
    if subscription.status == Subscription.Status.PAST_DUE:
        since = subscription.past_due_since or subscription.updated_at
        return _Grant(_entitlements_of(subscription.plan),
                      until=since + timedelta(days=settings.BILLING_PAST_DUE_GRACE_DAYS),
                      after=_entitlements_of(_free_plan()))
    return _Grant(_entitlements_of(subscription.plan))


def _free_plan() -> Plan | None:
    return Plan.objects.filter(code=settings.BILLING_FREE_PLAN_CODE).first()


def _entitlements_of(plan: Plan | None) -> Entitlements:
    if plan is None:
        return Entitlements(plan_code="none", plan_name="No plan", api_requests_per_minute_per_key=None,
                            api_requests_per_minute_per_tenant=None, concurrent_ai_requests=None,
                            monthly_ai_token_allowance=0, seats=None, custom_domains=0, team=False, sso=False,
                            white_label=False, client_tenants=False)
    quotas = {
        quota.meter_code: Quota(meter_code=quota.meter_code, monthly_limit=quota.monthly_limit,
                                hard=quota.behaviour == PlanQuota.Behaviour.HARD)
        for quota in plan.quotas.all()
    }
    return Entitlements(
        plan_code=plan.code, plan_name=plan.name,
        api_requests_per_minute_per_key=plan.api_requests_per_minute_per_key,
        api_requests_per_minute_per_tenant=plan.api_requests_per_minute_per_tenant,
        concurrent_ai_requests=plan.concurrent_ai_requests,
        monthly_ai_token_allowance=plan.monthly_ai_token_allowance, seats=plan.seats,
        custom_domains=plan.custom_domains, team=plan.team, sso=plan.sso, white_label=plan.white_label,
        client_tenants=plan.client_tenants, quotas=quotas,
    )


def plan_list_public() -> list[Plan]:
    return list(Plan.objects.filter(is_public=True, is_active=True).prefetch_related("quotas"))


def tenant_plan(tenant: Tenant) -> Plan | None:
    """The plan ops assigned to the tenant, else Free (subscriptions are read through billing.subscriptions)."""
    assignment = TenantPlan.objects.select_related("plan").filter(tenant=tenant).first()
    return assignment.plan if assignment else _free_plan()
