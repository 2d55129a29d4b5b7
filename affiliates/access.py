"""Who is an affiliate on the public host, decided in one place: a signed-in, active public-schema user with an
active affiliate account of kind "affiliate", who is not ops (is_staff). A tenant's staff session does not exist on
the public host (sessions live in each tenant's schema), and an affiliate is never is_staff, so the ops admin
refuses it (accounts.ops_admin). Each portal page also notes the affiliate's own IP address and device (once per
session: affiliates.fraud.sightings), giving its browser a device cookie if it has none."""

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from affiliates.clicks import device_token_ensure
from affiliates.fraud.sightings import affiliate_sighting_note
from affiliates.selectors import affiliate_for_user

View = Callable[..., HttpResponse]


def affiliate_required(view: View) -> View:
    """Public-host pages of the affiliate portal: anonymous visitors go to the login, anyone else who is not an
    active affiliate (ops, a suspended affiliate) is refused with 403. The view finds the affiliate on
    `request.affiliate`: every query it makes is scoped by it."""

    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if tenant is not None and not tenant.is_public:
            return render(request, "404.html", status=404)
        if not request.user.is_authenticated:
            query = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('account_login')}?{query}")
        affiliate = affiliate_for_user(request.user)
        if affiliate is None:
            return render(request, "affiliates/not_an_affiliate.html", status=403)
        request.affiliate = affiliate
        response = view(request, *args, **kwargs)
        # The affiliate's own browser and address: a referred signup from them is the affiliate's (fraud rules).
        affiliate_sighting_note(request, affiliate=affiliate, device_token=device_token_ensure(request, response))
        return response

    return checked
