"""Pages of the affiliate program on the public host: the application form, where a sign-in lands, and the
affiliate's account page (its link, code, password and two-factor settings; the figures are affiliates.portal)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.core import get_usage

from affiliates.access import affiliate_required
from affiliates.clicks import referral_redirect
from affiliates.exceptions import ApplicationPending
from affiliates.fingerprints import client_ip, ip_hash
from affiliates.forms import AffiliateApplicationForm
from affiliates.selectors import affiliate_for_user
from affiliates.services import application_submit
from tenants.urls_for import public_url


@require_http_methods(["GET", "HEAD"])
def referral_link(request: HttpRequest, code: str) -> HttpResponse:
    """`/r/CODE` on the public host's names other than BASE_DOMAIN (www.), where ReferralRedirectMiddleware does
    not answer it first."""
    return referral_redirect(request, code)


@require_http_methods(["GET", "POST"])
def application_apply(request: HttpRequest) -> HttpResponse:
    form = AffiliateApplicationForm(request.POST or None)
    if request.method == "POST":
        refusal = _apply_refusal(request)
        if refusal:
            form.is_valid()
            form.add_error(None, refusal)
            return render(request, "affiliates/apply.html", {"form": form}, status=429)
        if form.is_bot():
            # Answered like a success, so the bot learns nothing; nothing is stored.
            return redirect("affiliate_apply_done")
        if form.is_valid():
            data = form.cleaned_data
            try:
                application_submit(name=data["name"], email=data["email"], website=data["website"],
                                   promotion=data["promotion"], ip_hash=ip_hash(client_ip(request)),
                                   now=timezone.now())
            except ApplicationPending as error:
                form.add_error("email", error.message)
            else:
                return redirect("affiliate_apply_done")
    return render(request, "affiliates/apply.html", {"form": form}, status=400 if form.errors else 200)


@require_GET
def application_done(request: HttpRequest) -> HttpResponse:
    return render(request, "affiliates/apply_done.html")


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Where a sign-in on the public host lands (LOGIN_REDIRECT_URL): an affiliate in its portal, anyone else in
    the ops admin (which asks ops for their second factor and refuses everyone else)."""
    if affiliate_for_user(request.user) is not None:
        return redirect("affiliate_portal")
    return redirect("admin:index")


@require_GET
@affiliate_required
def affiliate_account(request: HttpRequest) -> HttpResponse:
    affiliate = request.affiliate
    return render(request, "affiliates/account.html", {
        "affiliate": affiliate, "link": public_url(f"/r/{affiliate.code}"),
        "home_link": public_url(f"/?ref={affiliate.code}"),
    })


def _apply_refusal(request: HttpRequest) -> str | None:
    """Why this application is refused by the per-IP limit, or None; refused when it cannot be counted (like
    signups: tenants.views_public)."""
    usage = get_usage(request, group="affiliate_apply", key="ip", rate=settings.AFFILIATE_APPLY_RATE_LIMIT,
                      method="POST", increment=True)
    if usage is None or not usage["should_limit"]:
        return None
    if usage["time_left"] < 0:
        return "Applications are paused for a moment. Please try again in a few minutes."
    return "Too many applications from your network. Please try again later."
