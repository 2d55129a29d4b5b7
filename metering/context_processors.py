from django.http import HttpRequest

from metering.usage.selectors import usage_alerts_this_month


def usage_notices(request: HttpRequest) -> dict:
    """Quota thresholds crossed this month, shown as a notice on staff pages (one query, staff pages only)."""
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    if tenant is None or tenant.is_public or user is None or not user.is_authenticated:
        return {}
    return {"usage_notices": usage_alerts_this_month(tenant=tenant)}
