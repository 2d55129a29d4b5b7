"""Agency sessions on a client's host (see affiliates.agencies.handoff): the grant is re-checked on every request,
what agency staff may never do there is refused, and every change they make is written to the client's audit
log as "agency staff X acting for agency Y". Placed after authentication and before MfaRequiredMiddleware."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from affiliates.agencies.handoff import AGENCY_SESSION_KEY, agency_session_current, is_shadow_email
from affiliates.agencies.services import GRANTABLE_ROLES
from config.api.errors import error_json_response
from tenants.models import TenantAuditLog
from tenants.services import tenant_audit_record

# Never for agency staff, whatever their role: accounts or keys they made would outlive the grant (the team,
# API keys, invitations), their shadow account's own settings, and the client's decision about the agency.
REFUSED_PREFIXES = ("/team/", "/api-keys/", "/invitations/", "/accounts/", "/settings/agency-access/",
                    "/api/v1/api-keys", "/api/v1/team")
ALLOWED_PATHS = ("/accounts/logout/",)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class AgencySessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        user = getattr(request, "user", None)
        if tenant is None or tenant.is_public or user is None or not user.is_authenticated:
            return self.get_response(request)
        data = request.session.get(AGENCY_SESSION_KEY)
        if data is None:
            # A shadow account only ever signs in through a hand-off; anything else is not an agency session.
            return self._ended(request) if is_shadow_email(user.email) else self.get_response(request)
        session = agency_session_current(data=data, client=tenant)
        # Owner or billing is never the agency's, whatever the Team page made its shadow account meanwhile.
        if session is None or user.role not in GRANTABLE_ROLES:
            return self._ended(request)
        if request.path.startswith(REFUSED_PREFIXES) and request.path not in ALLOWED_PATHS:
            return self._refused(request)
        request.agency_session = session
        request.second_factor_verified_elsewhere = session.second_factor_verified
        response = self.get_response(request)
        if request.method not in SAFE_METHODS:
            tenant_audit_record(
                tenant=tenant, actor_email=session.staff_email, action="agency_staff_request",
                source=TenantAuditLog.Source.AGENCY,
                details={"acting": session.acting_as, "agency": session.agency_slug, "method": request.method,
                         "path": request.path, "status": response.status_code},
            )
        return response

    def _ended(self, request: HttpRequest) -> HttpResponse:
        logout(request)
        message = "Your agency's access to this workspace has ended."
        if request.path.startswith("/api/"):
            return error_json_response(401, code="agency_access_ended", message=message)
        return TemplateResponse(request, "affiliates/agencies/access_ended.html", {"message": message},
                                status=401).render()

    def _refused(self, request: HttpRequest) -> HttpResponse:
        message = "Agency staff cannot do this in a client's workspace."
        if request.path.startswith("/api/"):
            return error_json_response(403, code="agency_session_refused", message=message)
        return TemplateResponse(request, "affiliates/agencies/access_ended.html", {"message": message},
                                status=403).render()
