from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django_tenants.middleware.main import TenantMainMiddleware

from config.api.errors import error_json_response
from config.lookup_cache import lookup_request
from tenants.models import Domain, Tenant
from tenants.selectors import tenant_for_hostname

# Paths a blocked workspace still serves: its static files, so the blocked page renders with its styles.
ALWAYS_SERVED_PREFIXES = ("/static/", "/branding/")


class TenantRoutingMiddleware(TenantMainMiddleware):
    """django-tenants' routing (host name -> tenant -> schema), reading the host name's tenant through the
    cached lookup instead of querying the domain table on every request. The request's lookups (this one and
    the API key's) share one read of the lookup generation."""

    # Called synchronously even under ASGI (Django adapts it), so the `with` below spans the whole request.
    async_capable = False

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with lookup_request():
            return super().__call__(request)

    @staticmethod
    def hostname_from_request(request: HttpRequest) -> str:
        # The host as sent, "www." included: a custom domain may be www.agency.com (django-tenants strips it).
        return request.get_host().split(":")[0].lower()

    def get_tenant(self, domain_model, hostname: str) -> Tenant:
        tenant = tenant_for_hostname(hostname)
        if tenant is None and hostname.startswith("www."):
            tenant = tenant_for_hostname(hostname.removeprefix("www."))  # www.<host> serves <host>, as before
        if tenant is None:
            raise Domain.DoesNotExist(hostname)
        return tenant


class TenantAccessMiddleware:
    """A suspended or closed tenant's host answers with a page saying so, for every path. Data stays untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if tenant is None or tenant.is_public or tenant.is_active or request.path.startswith(ALWAYS_SERVED_PREFIXES):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            suspended = tenant.status == Tenant.Status.SUSPENDED
            return error_json_response(
                403, code="tenant_suspended" if suspended else "tenant_closed",
                message="This workspace is suspended." if suspended else "This workspace is closed.",
            )
        if tenant.status == Tenant.Status.SUSPENDED:
            response = TemplateResponse(request, "tenants/blocked_suspended.html", {"tenant": tenant}, status=403)
        else:
            response = TemplateResponse(request, "tenants/blocked_closed.html", {"tenant": tenant}, status=410)
        return response.render()
