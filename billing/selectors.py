"""Reads on the plan catalogue. `entitlements_for` is the one place anything asks what a tenant may use."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from billing.models import Plan, PlanQuota, TenantPlan
from config.lookup_cache import lookup_cached, lookup_key
from tenants.models import Tenant

DEFAULT_PLAN_CODE = "free"


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


def entitlements_for(*, tenant: Tenant) -> Entitlements:
    """What the tenant's plan allows. Today the plan ops assigned (Free when none); later the subscription's.
    Read on every API request, so served from the per-process lookup cache; billing.signals forgets it when a
    plan, its quotas or an assignment change."""
    return lookup_cached(entitlements_key(tenant.pk), lambda: _entitlements_load(tenant))


def entitlements_key(tenant_id: int) -> str:
    return lookup_key("entitlements", tenant_id)


def _entitlements_load(tenant: Tenant) -> Entitlements:
    assignment = TenantPlan.objects.select_related("plan").filter(tenant=tenant).first()
    plan = assignment.plan if assignment else Plan.objects.filter(code=DEFAULT_PLAN_CODE).first()
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
    assignment = TenantPlan.objects.select_related("plan").filter(tenant=tenant).first()
    return assignment.plan if assignment else Plan.objects.filter(code=DEFAULT_PLAN_CODE).first()
