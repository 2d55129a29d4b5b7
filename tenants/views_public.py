"""Pages of the public site (the public schema's URLconf): landing, pricing, signup."""

from functools import partial

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.login_limits import staff_password_check
from billing.selectors import public_price_list
from tenants.events import tenant_signed_up_send_on_commit
from tenants.exceptions import SlugInvalid, SlugTaken
from tenants.forms import SignupForm
from tenants.models import Tenant
from tenants.selectors import slug_availability
from tenants.services import login_link_token_create, tenant_provision
from tenants.signup_limits import client_ip, signup_refusal
from tenants.urls_for import tenant_url


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "public/landing.html")


@require_GET
def pricing(request: HttpRequest) -> HttpResponse:
    """The plans priced from the billing catalogue (monthly and annual), usage prices in words, and the FAQ."""
    return render(request, "public/pricing.html", {
        "price_list": public_price_list(currency="USD"),
        "sales_email": settings.BILLING_ISSUER["email"],
        "trial_reminder_days": settings.BILLING_TRIAL_REMINDER_DAYS,
    })


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    refusal = signup_refusal(request) if request.method == "POST" else None
    if refusal:
        form.is_valid()
        form.add_error(None, refusal)
        return render(request, "public/signup.html", {"form": form, "base_domain": settings.BASE_DOMAIN}, status=429)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = tenant_provision(
                name=data["name"], slug=data["slug"], owner_email=data["email"], owner_password=data["password"],
                tenant_type=data["type"],
                owner_password_check=partial(staff_password_check, request),
            )
        except (SlugInvalid, SlugTaken) as error:
            form.add_error("slug", error.message)
        else:
            if result.created:
                # The referral cookie, the address and the typed code, for whoever attributes signups (affiliates).
                tenant_signed_up_send_on_commit(
                    tenant=result.tenant, owner_email=data["email"], cookies=request.COOKIES,
                    ip=client_ip(request), promotion_code=data.get("promotion_code", ""),
                )
                return redirect(_owner_login_link(result.tenant, result.owner_id))
            # The same signup again (a double click, a retry, or someone holding the owner's password): the
            # workspace exists, so its owner signs in there like anyone else, second factor included.
            return redirect(tenant_url(result.tenant, reverse("account_login", urlconf=settings.ROOT_URLCONF)))
    return render(request, "public/signup.html", {"form": form, "base_domain": settings.BASE_DOMAIN},
                  status=400 if form.errors else 200)


@require_GET
def signup_slug_check(request: HttpRequest) -> HttpResponse:
    """htmx live check of the workspace address while the visitor types."""
    slug = request.GET.get("slug", "").strip().lower()
    available, message = slug_availability(slug) if slug else (False, "")
    return render(request, "public/_slug_check.html", {"available": available, "message": message})


def _owner_login_link(tenant: Tenant, owner_id: int) -> str:
    token = login_link_token_create(tenant=tenant, user_id=owner_id)
    return tenant_url(tenant, f"/login/link/{token}/")
