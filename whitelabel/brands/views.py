"""The Branding page (Settings → Branding): edit the tenant's own brand, with a live preview beside the form.

Staff who manage settings only; without the plan's `white_label` entitlement both the page and the preview
answer 402 with the upgrade message instead of the form."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import Action, staff_action_required
from billing.selectors import entitlements_for
from config.csp import csp_inline_styles_allowed
from whitelabel.brands.exceptions import BrandError
from whitelabel.brands.forms import BrandForm
from whitelabel.brands.preview import brand_preview
from whitelabel.brands.rendering import brand_look, brand_stylesheet, stylesheet_version
from whitelabel.brands.selectors import brand_own
from whitelabel.brands.services import brand_save
from whitelabel.email.views import sender_domain_section


# The preview's sandboxed srcdoc frames inherit the page's policy and show an unsaved brand's CSS and an email.
@csp_inline_styles_allowed
@never_cache
@staff_action_required(Action.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def branding_page(request: HttpRequest) -> HttpResponse:
    """GET shows the form and the preview of the saved brand; POST saves it through brand_save, whose refusals
    (contrast with its ratio, the CSS's reason, an image) are shown under the field they concern."""
    tenant = request.tenant
    if not entitlements_for(tenant=tenant).white_label:
        return _upsell(request)
    saved = brand_own(tenant=tenant)
    if request.method == "POST":
        form = BrandForm(request.POST, request.FILES)
    else:
        form = BrandForm(initial=BrandForm.initial_for(saved, display_name=tenant.name))
    if request.method == "POST" and form.is_valid():
        try:
            brand_save(tenant=tenant, data=form.brand_data(), now=timezone.now())
        except BrandError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, "Brand saved.")
            return redirect("section_branding")
    values = request.POST if request.method == "POST" else {}
    return render(request, "whitelabel/brands/branding.html", {
        "active_section": "branding",
        "form": form,
        "saved": saved,
        "preview": brand_preview(saved=saved, values=values, files={}, tenant_name=tenant.name),
        **sender_domain_section(tenant=tenant),
    }, status=400 if form.errors else 200)


@never_cache
@staff_action_required(Action.MANAGE_SETTINGS)
@require_POST
def branding_preview(request: HttpRequest) -> HttpResponse:
    """The preview partial for the form as it stands (htmx posts the form on every change); nothing is saved."""
    tenant = request.tenant
    if not entitlements_for(tenant=tenant).white_label:
        return _upsell(request)
    preview = brand_preview(saved=brand_own(tenant=tenant), values=request.POST, files=request.FILES,
                            tenant_name=tenant.name)
    return render(request, "whitelabel/brands/_preview.html", {"preview": preview})


@require_GET
def brand_stylesheet_file(request: HttpRequest) -> HttpResponse:
    """/branding/brand.css: the stylesheet of this host's brand, and only of it (404 without one), public as the
    sign-in page that wears it. Under the version its pages link (?v=) it is cached for a year; any other
    version is answered with the current stylesheet, revalidated on every use."""
    look = brand_look(tenant=request.tenant) if not request.tenant.is_public else None
    if look is None:
        raise Http404("This host has no brand.")
    stylesheet = brand_stylesheet(look)
    response = HttpResponse(stylesheet, content_type="text/css; charset=utf-8")
    current = request.GET.get("v") == stylesheet_version(stylesheet)
    response["Cache-Control"] = "public, max-age=31536000, immutable" if current else "no-cache"
    return response


def _upsell(request: HttpRequest) -> HttpResponse:
    return render(request, "whitelabel/brands/upsell.html", {"active_section": "branding"}, status=402)
