"""Writes on the plan catalogue. Assignments are made by ops in admin until subscriptions arrive with billing."""

from django.db import transaction

from billing.models import Plan, TenantPlan
from tenants.models import Tenant


@transaction.atomic
def tenant_plan_assign(*, tenant: Tenant, plan: Plan) -> TenantPlan:
    """Put the tenant on the plan (replacing its current one). Every process sees the new entitlements on its
    next request (billing.signals forgets the cached ones)."""
    assignment, _ = TenantPlan.objects.update_or_create(tenant=tenant, defaults={"plan": plan})
    return assignment
