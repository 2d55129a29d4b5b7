"""Reseller portal pages: the reseller's public pages on its own custom domain (landing, pricing, signup), and the
Reseller portal settings page in the agency's workspace."""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.login_limits import staff_password_check
from accounts.permissions import Action, staff_action_required
from affiliates.agencies.exceptions import AgencyError
from billing.selectors import entitlements_for
from tenants.exceptions import SlugInvalid, SlugTaken
from tenants.models import Tenant
from tenants.services import login_link_token_create
from tenants.signup_limits import signup_refusal
from tenants.urls_for import tenant_url
from whitelabel.brands.exceptions import BrandError
from whitelabel.brands.selectors import brand_own
from whitelabel.portals.forms import PortalLandingForm, PortalSignupForm
from whitelabel.portals.selectors import (
    ResellerPortal,
    client_portal_url,
    portal_domains,
    portal_overview,
    portal_price_list,
)
from whitelabel.portals.services import portal_client_signup, portal_landing_save, portal_wildcard_check


def _portal(request: HttpRequest) -> ResellerPortal:
    portal = getattr(request, "reseller_portal", None)
    if portal is None:
        raise Http404("No reseller portal here.")
    return portal


# --- On the reseller's domain ----------------------------------------------------------------------------------

@require_GET
def portal_landing(request: HttpRequest) -> HttpResponse:
    """The reseller's home page: its brand, its landing title and text (shown as text, never as HTML)."""
    portal = _portal(request)
    return render(request, "whitelabel/portals/landing.html", {"portal": portal})


@require_GET
def portal_pricing(request: HttpRequest) -> HttpResponse:
    """The reseller's own prices for the plans it sells; Tollgate's never appear here."""
    portal = _portal(request)
    return render(request, "whitelabel/portals/pricing.html", {
        "portal": portal, "prices": portal_price_list(agency=portal.agency),
    })


@never_cache
@require_http_methods(["GET", "POST"])
def portal_signup(request: HttpRequest) -> HttpResponse:
    """A client workspace under the agency whose domain this is, with the visitor as its owner; then signed in on
    the client's own host (under this domain when its wildcard checks out) through the single-use login link.
    Counted in the same per-IP limit as the public signup."""
    portal = _portal(request)
    form = PortalSignupForm(request.POST or None, portal_hostname=portal.hostname)
    refusal = signup_refusal(request) if request.method == "POST" else None
    if refusal:
        form.is_valid()
        form.add_error(None, refusal)
        return _signup_render(request, portal, form, status=429)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            signup = portal_client_signup(
                agency=portal.agency, name=data["name"], slug=data["slug"], owner_email=data["email"],
                owner_password=data["password"], owner_password_check=partial(staff_password_check, request))
        except (SlugInvalid, SlugTaken) as error:
            form.add_error("slug", error.message)
        except AgencyError:
            # The agency lost client workspaces from its plan: its visitors cannot sign up until it has them back.
            form.add_error(None, "Signups are closed for now. Please contact us.")
        else:
            if signup.created:
                token = login_link_token_create(tenant=signup.client, user_id=signup.owner_id)
                return redirect(_client_url(signup.client, f"/login/link/{token}/"))
            # The same signup again: the workspace exists, so its owner signs in there like anyone else.
            return redirect(_client_url(signup.client, "/accounts/login/"))
    return _signup_render(request, portal, form, status=400 if form.errors else 200)


def _signup_render(request: HttpRequest, portal: ResellerPortal, form: PortalSignupForm, *,
                   status: int) -> HttpResponse:
    return render(request, "whitelabel/portals/signup.html", {"portal": portal, "form": form}, status=status)


def _client_url(client: Tenant, path: str) -> str:
    return client_portal_url(client=client, path=path) or tenant_url(client, path)


# --- In the agency's workspace ----------------------------------------------------------------------------------

@never_cache
@staff_action_required(Action.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def portal_settings_page(request: HttpRequest) -> HttpResponse:
    """The portal's landing text, its domains with the wildcard record clients need and its state, and its URLs.
    Agencies only (404 elsewhere); without white-label, the upgrade message (402)."""
    agency = _agency(request)
    if not entitlements_for(tenant=agency).white_label:
        return render(request, "whitelabel/brands/upsell.html", {"active_section": "portal"}, status=402)
    saved = brand_own(tenant=agency)
    initial = {"landing_title": saved.landing_title, "landing_text": saved.landing_text} if saved else {}
    form = PortalLandingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            portal_landing_save(agency=agency, landing_title=form.cleaned_data["landing_title"],
                                landing_text=form.cleaned_data["landing_text"], now=timezone.now())
        except BrandError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, "Portal saved.")
            return redirect("section_portal")
    return render(request, "whitelabel/portals/settings.html", {
        "active_section": "portal", "form": form, "overview": portal_overview(agency=agency),
    }, status=400 if form.errors else 200)


@never_cache
@staff_action_required(Action.MANAGE_SETTINGS)
@require_POST
def portal_wildcard_check_submit(request: HttpRequest, domain_id: int) -> HttpResponse:
    """"Check now" for the wildcard record of one of the agency's routed domains (another's: 404)."""
    agency = _agency(request)
    domain = portal_domains(agency=agency).filter(pk=domain_id).first()
    if domain is None:
        raise Http404("No such domain of yours.")
    checked = portal_wildcard_check(domain_id=domain.pk, now=timezone.now())
    if checked.last_check.get("wildcard", {}).get("ok"):
        messages.success(request, f"*.{domain.hostname} checks out: your clients have their addresses.")
    else:
        messages.error(request, f"*.{domain.hostname} does not point at us yet.")
    return redirect(reverse("section_portal"))


def _agency(request: HttpRequest) -> Tenant:
    if request.tenant.type != Tenant.Type.AGENCY:
        raise Http404("Reseller portals are for agencies.")
    return request.tenant


