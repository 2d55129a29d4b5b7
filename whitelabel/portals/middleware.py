"""On a reseller's own custom domain, its public pages (landing, pricing, signup) come before its workspace's URLs;
on any other host nothing changes (the pages do not exist there: 404)."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port

from whitelabel.portals.selectors import reseller_portal_for


class ResellerPortalMiddleware:
    """Sets `request.reseller_portal` (None off a portal) and, on a portal, the portal's URLconf: `/` is the
    landing for visitors, while the agency's signed-in staff keep their dashboard there (where sign-in lands)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        hostname, _port = split_domain_port(request.get_host())
        portal = reseller_portal_for(tenant=getattr(request, "tenant", None), hostname=hostname)
        request.reseller_portal = portal
        if portal is not None and (request.path != "/" or not request.user.is_authenticated):
            request.urlconf = settings.RESELLER_PORTAL_URLCONF
        return self.get_response(request)
