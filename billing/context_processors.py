from django.http import HttpRequest

from billing.selectors import entitlements_for


def current_plan(request: HttpRequest) -> dict:
    """The signed-in tenant's plan name for staff pages (entitlements are cached per process, so no query)."""
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    if tenant is None or tenant.is_public or user is None or not user.is_authenticated:
        return {}
    return {"current_plan_name": entitlements_for(tenant=tenant).plan_name}
