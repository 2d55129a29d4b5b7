"""The ops admin's door. Ops sign in through allauth on the public host, like tenant staff on theirs: the password
step is throttled per IP and per account (`ACCOUNT_RATE_LIMITS["login_failed"]`) and an account with TOTP is
asked for its code. This module closes the other ways in: the admin's own password-only login form, and any
session that is signed in but never passed the second factor. `OPS_REQUIRE_MFA` makes TOTP compulsory."""

import logging
from collections.abc import Callable
from urllib.parse import urlencode

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)

# Admin views a session that has not passed MFA may still use: leaving.
MFA_EXEMPT_ADMIN_VIEWS = frozenset({"logout"})


@never_cache
def ops_admin_login(request: HttpRequest) -> HttpResponse:
    """Stands in for the admin's login view at /admin/login/. Django's form there signs in with a password alone
    and outside allauth's throttles, so it is never rendered and nothing posted to it is read: visitors are sent
    to allauth's login with where they were going."""
    next_url = _next_url(request)
    user = request.user
    if not user.is_authenticated:
        return HttpResponseRedirect(_with_next(reverse("account_login"), next_url))
    if not (user.is_active and user.is_staff):
        raise PermissionDenied
    return ops_admin_mfa_redirect(request, next_url=next_url) or HttpResponseRedirect(next_url)


def ops_admin_mfa_redirect(request: HttpRequest, *, next_url: str) -> HttpResponse | None:
    """Where a staff session must go before any admin page, or None to go on: to TOTP setup when
    `OPS_REQUIRE_MFA` is on and the account has none; to the code when the account has TOTP but this session
    never passed it (signed in before TOTP was set up, or by a path that called `login()` directly)."""
    user = request.user
    if not (user.is_authenticated and user.is_staff):
        return None
    if not is_mfa_enabled(user, [Authenticator.Type.TOTP]):
        if not settings.OPS_REQUIRE_MFA:
            return None
        logger.info("ops_admin_refused reason=mfa_setup_required user_id=%s", user.pk)
        return redirect("mfa_activate_totp")
    if session_passed_mfa(request):
        return None
    logger.info("ops_admin_refused reason=mfa_not_passed user_id=%s", user.pk)
    return HttpResponseRedirect(_with_next(reverse("mfa_reauthenticate"), next_url))


def session_passed_mfa(request: HttpRequest) -> bool:
    """Whether this session's signed-in user entered a second factor in it (at login or when asked again).
    allauth records each step of a sign-in in the session, tied to the user it was for."""
    records = get_authentication_records(request, request.user)
    return any(record.get("method") == "mfa" for record in records)


class OpsAdminMfaMiddleware:
    """Checks the second factor on every admin view, not only at login, so that no session reaches the admin
    without it, however it was signed in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable, view_args: tuple,
                     view_kwargs: dict) -> HttpResponse | None:
        match = request.resolver_match
        if match is None or "admin" not in match.namespaces or match.url_name in MFA_EXEMPT_ADMIN_VIEWS:
            return None
        return ops_admin_mfa_redirect(request, next_url=request.get_full_path())


def _next_url(request: HttpRequest) -> str:
    candidate = request.GET.get(REDIRECT_FIELD_NAME, "")
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return reverse("admin:index")


def _with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"
