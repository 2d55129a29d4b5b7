"""Who may open the portal: a signed-in public-host user with an active affiliate account of kind affiliate
(tenants' and agencies' referral accounts have their own pages). Anonymous visitors go to the affiliates' sign-in;
anyone else signed in (ops, a suspended affiliate) gets a 403 page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from affiliates.models import Affiliate

View = Callable[..., HttpResponse]


def portal_affiliate(user) -> Affiliate | None:
    """The active affiliate account of `user`, or None (never an ops account's: ops are staff or superusers)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.is_staff or user.is_superuser:
        return None
    return Affiliate.objects.filter(user_id=user.pk, kind=Affiliate.Kind.AFFILIATE,
                                    status=Affiliate.Status.ACTIVE).first()


def affiliate_required(view: View) -> View:
    """Runs the view with `request.affiliate` set to the caller's own affiliate account, whatever the method."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url=_login_url())
        affiliate = portal_affiliate(request.user)
        if affiliate is None:
            return render(request, "affiliates/portal/not_affiliate.html", status=403)
        request.affiliate = affiliate
        return view(request, *args, **kwargs)

    return wrapper


def _login_url() -> str:
    # The affiliates' own sign-in (affiliates/urls_public.py) once it is routed; the public host's otherwise.
    try:
        return reverse("affiliate_login")
    except NoReverseMatch:
        return reverse("account_login")
