"""When a tenant requires two-factor authentication, staff without it set it up before anything else."""

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from config.api.errors import error_json_response

# Where a member without MFA may still go: the MFA setup itself, login/logout, invitations and static files.
ALLOWED_PREFIXES = ("/accounts/", "/static/", "/branding/", "/invitations/", "/login/link/")


class MfaRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._must_set_up_mfa(request):
            if request.path.startswith("/api/"):
                return error_json_response(403, code="mfa_required",
                                           message="This workspace requires two-factor authentication. "
                                                   "Set it up in the browser first.")
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    def _must_set_up_mfa(self, request: HttpRequest) -> bool:
        tenant = getattr(request, "tenant", None)
        user = getattr(request, "user", None)
        if tenant is None or tenant.is_public or not tenant.require_mfa:
            return False
        if user is None or not user.is_authenticated or request.path.startswith(ALLOWED_PREFIXES):
            return False
        # A session whose second factor was checked where it began (an agency hand-off: affiliates.agencies).
        if getattr(request, "second_factor_verified_elsewhere", False):
            return False
        return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
