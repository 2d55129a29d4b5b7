"""Pages on a tenant's host for its staff: the signup login link, the dashboard, API keys, workspace settings
and the sections later capabilities fill. Who may see what is decided by accounts.permissions, through
`staff_action_required`."""

from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.permissions import Action, staff_action_required, user_can
from accounts.selectors import email_primary_unverified, member_list
from tenants.exceptions import ApiKeyInvalid, LoginLinkInvalid, LoginLinkNeedsSecondFactor
from tenants.forms import ApiKeyCreateForm, WorkspaceSettingsForm
from tenants.models import ApiKey, TenantAuditLog
from tenants.selectors import api_key_active_count, api_key_get, api_key_list
from tenants.services import api_key_create, api_key_revoke, login_link_token_check, tenant_update

# Sections of the staff navigation that later capabilities fill; until then each says so plainly.
UPCOMING_SECTIONS: dict[str, tuple[str, str]] = {}

# Sections that need more than USE_PRODUCT.

# The full key of a key just created, kept in the session for the one page view that shows it.
API_KEY_SECRET_SESSION_KEY = "api_key_created_once"


@never_cache
@require_GET
def login_link_consume(request: HttpRequest, token: str) -> HttpResponse:
    """Signs in the owner who just signed up on the public site, once, then lands them on the dashboard.

    Never past a second factor: an owner who has one, or a workspace that requires it, goes to the login page.
    A refused link answers 200, like Django's invalid password-reset page: Django logs the path of every 4xx,
    and this path is the token.
    """
    try:
        owner = login_link_token_check(token=token, tenant=request.tenant)
    except LoginLinkNeedsSecondFactor as error:
        messages.info(request, error.message)
        return redirect("account_login")
    except LoginLinkInvalid as error:
        return render(request, "tenants/login_link_invalid.html", {"message": error.message})
    login(request, owner, backend="django.contrib.auth.backends.ModelBackend")
    # The confirmation link must point at this host, so it is sent from here rather than from the public signup.
    unverified = email_primary_unverified(user=owner)
    if unverified is not None:
        unverified.send_confirmation(request, signup=True)
    return redirect("dashboard")


@staff_action_required(Action.USE_PRODUCT)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/dashboard.html", {
        "tenant": request.tenant,
        "active_section": "dashboard",
        "active_api_key_count": api_key_active_count(tenant=request.tenant),
        "member_count": member_list().count(),
    })


@staff_action_required(Action.USE_PRODUCT)
@require_GET
def section_upcoming(request: HttpRequest, section: str) -> HttpResponse:
    title, message = UPCOMING_SECTIONS[section]
    return render(
        request, "staff/upcoming.html", {"title": title, "message": message, "active_section": section}
    )


# --- API keys ------------------------------------------------------------------------------------

@never_cache  # the page may carry a full key: no browser or proxy keeps a copy
@staff_action_required(Action.MANAGE_API_KEYS)
@require_http_methods(["GET", "POST"])
def api_keys_page(request: HttpRequest) -> HttpResponse:
    """GET lists the keys (and shows a just-created key once); POST creates one."""
    form = ApiKeyCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            created = api_key_create(tenant=request.tenant, name=form.cleaned_data["name"],
                                     scopes=form.cleaned_data["scopes"], created_by=request.user.email)
        except ApiKeyInvalid as error:
            form.add_error(error.field, error.message)
        else:
            request.session[API_KEY_SECRET_SESSION_KEY] = {"name": created.api_key.name, "secret": created.secret}
            messages.success(request, f"API key \u201c{created.api_key.name}\u201d created.")
            return redirect("section_api_keys")
    created_once = request.session.pop(API_KEY_SECRET_SESSION_KEY, None) if request.method == "GET" else None
    return render(request, "staff/api_keys.html", {
        "active_section": "api-keys",
        "form": form,
        "api_keys": api_key_list(tenant=request.tenant),
        "created_once": created_once,
    }, status=400 if form.errors else 200)


@staff_action_required(Action.MANAGE_API_KEYS)
@require_http_methods(["GET", "POST"])
def api_key_revoke_confirm(request: HttpRequest, api_key_id: int) -> HttpResponse:
    """GET asks for confirmation; POST revokes."""
    api_key = _api_key_or_404(request, api_key_id)
    if not api_key.is_active:
        messages.info(request, f"\u201c{api_key.name}\u201d is already revoked.")
        return redirect("section_api_keys")
    if request.method == "GET":
        return render(request, "staff/api_key_revoke_confirm.html",
                                 {"api_key": api_key, "active_section": "api-keys"})
    api_key_revoke(api_key=api_key)
    messages.success(request, f"\u201c{api_key.name}\u201d was revoked. Programs using it can no longer call the API.")
    return redirect("section_api_keys")


def _api_key_or_404(request: HttpRequest, api_key_id: int) -> ApiKey:
    # Keys live in the public schema: the selector scopes the lookup to this host's tenant.
    api_key = api_key_get(tenant=request.tenant, api_key_id=api_key_id)
    if api_key is None:
        raise Http404("No such API key.")
    return api_key


# --- Workspace settings ---------------------------------------------------------------------------

@staff_action_required(Action.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def workspace_settings(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    can_manage_security = user_can(request.user, Action.MANAGE_SECURITY)
    form = WorkspaceSettingsForm(
        request.POST if request.method == "POST" else None, can_manage_security=can_manage_security,
        initial={"name": tenant.name, "billing_email": tenant.billing_email, "require_mfa": tenant.require_mfa},
    )
    if request.method == "POST" and form.is_valid():
        changes = form.changed_values(tenant)
        if changes:
            tenant_update(tenant=tenant, actor=request.user, source=TenantAuditLog.Source.STAFF, **changes)
            messages.success(request, "Settings saved.")
        else:
            messages.info(request, "Nothing changed.")
        return redirect("section_settings")
    return render(request, "staff/settings.html", {
        "active_section": "settings",
        "form": form,
        "tenant": tenant,
        "can_manage_security": can_manage_security,
    }, status=400 if form.errors else 200)
