from django.conf import settings
from django.http import HttpRequest

from whitelabel.brands.rendering import brand_look


def brand(request: HttpRequest) -> dict:
    """`brand`: the look of the tenant whose host this is (a client's host wears its agency's brand); None on the
    public site and for tenants without one."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == settings.PUBLIC_SCHEMA_NAME:
        return {"brand": None}
    return {"brand": brand_look(tenant=tenant)}
