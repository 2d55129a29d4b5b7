from django.conf import settings
from django.http import HttpRequest


def current_tenant(request: HttpRequest) -> dict:
    tenant = getattr(request, "tenant", None)
    is_tenant_host = tenant is not None and tenant.schema_name != settings.PUBLIC_SCHEMA_NAME
    return {"current_tenant": tenant if is_tenant_host else None}
