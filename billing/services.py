"""Writes on the plan catalogue. Assignments are made by ops in admin until subscriptions arrive with billing."""

from django.db import transaction

from billing.models import Plan, TenantPlan
from billing.selectors import entitlements_forget
from tenants.models import Tenant


@transaction.atomic
def tenant_plan_assign(*, tenant: Tenant, plan: Plan) -> TenantPlan:
    """Put the tenant on the plan (replacing its current one). This process forgets its cached entitlements
    once the change is committed, so it never re-caches the old plan from a read made before the commit;
    other processes catch up within ENTITLEMENTS_TTL_S."""
    assignment, _ = TenantPlan.objects.update_or_create(tenant=tenant, defaults={"plan": plan})
    transaction.on_commit(lambda: entitlements_forget(tenant))
    return assignment
