"""Pages on a tenant's host for its staff: the signup login link, the dashboard and the section shell."""

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.models import User
from tenants.exceptions import LoginLinkInvalid
from tenants.services import login_link_token_check

# Sections of the staff navigation that later capabilities fill; until then each says so plainly.
UPCOMING_SECTIONS = {
    "usage": ("Usage", "Usage events, API-call tracking and quotas per meter arrive with metering."),
    "billing": ("Billing", "Plans, subscriptions, invoices and payment methods arrive with billing."),
    "api-keys": ("API keys", "Creating and revoking API keys arrives with the API layer."),
    "team": ("Team", "Inviting staff, roles and MFA arrive with team accounts."),
    "branding": ("Branding", "Logo, colours and a custom domain arrive with white-label."),
    "coach": ("Coach", "The creator monetization coach arrives with the creators capability."),
    "settings": ("Settings", "Workspace name, billing email and security settings arrive with team accounts."),
}


@never_cache
@require_GET
def login_link_consume(request: HttpRequest, token: str) -> HttpResponse:
    """Signs in the owner who just signed up on the public site, once, then lands them on the dashboard."""
    try:
        user_id = login_link_token_check(token=token, tenant=request.tenant)
    except LoginLinkInvalid as error:
        return render(request, "tenants/login_link_invalid.html", {"message": error.message}, status=400)
    login(request, User.objects.get(pk=user_id), backend="django.contrib.auth.backends.ModelBackend")
    return redirect("dashboard")


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/dashboard.html", {"tenant": request.tenant, "active_section": "dashboard"})


@login_required
@require_GET
def section_upcoming(request: HttpRequest, section: str) -> HttpResponse:
    title, message = UPCOMING_SECTIONS[section]
    return render(
        request, "staff/upcoming.html", {"title": title, "message": message, "active_section": section}
    )
