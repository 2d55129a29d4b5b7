from django.http import HttpRequest

from billing.selectors import entitlements_for


def current_plan(request: HttpRequest) -> dict:
    """The signed-in tenant's plan name, and whether it has white-label (the Branding page's link), for staff pages
    (entitlements are cached per process, so no query)."""
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    if tenant is None or tenant.is_public or user is None or not user.is_authenticated:
        return {}
    entitlements = entitlements_for(tenant=tenant)
    return {"current_plan_name": entitlements.plan_name, "plan_white_label": entitlements.white_label}
