"""Agency pages. On an agency's host: Clients (the dashboard, creating a client, opening a client's workspace).
On a client's host: Settings → Agency access (the owner's grant) and the hand-off that signs agency staff in."""

from allauth.account.authentication import get_authentication_records
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.exceptions import TeamError
from accounts.permissions import Action, staff_action_required
from affiliates.agencies.exceptions import AgencyAccessInvalid, AgencyError
from affiliates.agencies.forms import AgencyAccessForm, ClientCreateForm
from affiliates.agencies.handoff import AGENCY_SESSION_KEY, handoff_consume, handoff_create
from affiliates.agencies.selectors import (
    agency_client_get,
    agency_dashboard,
    agency_grant_current,
    agency_grant_history,
)
from affiliates.agencies.services import (
    agency_access_grant,
    agency_access_revoke,
    client_owner_invitation_resend,
    client_workspace_create,
)
from tenants.exceptions import TenantError
from tenants.models import Tenant

# --- The agency's host ----------------------------------------------------------------------------------------

@staff_action_required(Action.MANAGE_CLIENTS)
@require_http_methods(["GET", "POST"])
def clients_page(request: HttpRequest) -> HttpResponse:
    """GET: the dashboard of the agency's clients; POST: create a client workspace."""
    agency = request.tenant
    if agency.type != Tenant.Type.AGENCY:
        raise Http404("Client workspaces are for agencies.")
    form = ClientCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            created = client_workspace_create(agency=agency, actor_email=request.user.email, **form.cleaned_data)
        except (AgencyError, TenantError) as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, f"{created.client.name} was created; its owner was invited by email.")
            return redirect("agency_clients")
    return render(request, "affiliates/agencies/clients.html", {
        "active_section": "clients", "form": form,
        "dashboard": agency_dashboard(agency=agency, now=timezone.now()),
    }, status=400 if form.errors else 200)


@staff_action_required(Action.MANAGE_CLIENTS)
@require_POST
def client_open(request: HttpRequest, slug: str) -> HttpResponse:
    """'Open workspace': a single-use hand-off to the client's host, if the client granted access."""
    mfa_verified = any(record.get("method") == "mfa" for record in get_authentication_records(request, request.user))
    try:
        url = handoff_create(agency=request.tenant, client_slug=slug, staff_email=request.user.email,
                             staff_has_mfa=is_mfa_enabled(request.user), second_factor_verified=mfa_verified)
    except AgencyError as error:
        messages.error(request, error.message)
        return redirect("agency_clients")
    return redirect(url)


@staff_action_required(Action.MANAGE_CLIENTS)
@require_POST
def client_owner_invitation_resend_submit(request: HttpRequest, slug: str) -> HttpResponse:
    client = agency_client_get(agency=request.tenant, slug=slug)
    if client is None:
        raise Http404("No such client.")
    try:
        client_owner_invitation_resend(agency=request.tenant, client=client, actor_email=request.user.email)
    except (AgencyError, TeamError) as error:
        messages.info(request, error.message)
    else:
        messages.success(request, f"A new invitation was sent to {client.owner_email}.")
    return redirect("agency_clients")


# --- The client's host ----------------------------------------------------------------------------------------

@staff_action_required(Action.MANAGE_SECURITY)
@require_http_methods(["GET", "POST"])
def agency_access_page(request: HttpRequest) -> HttpResponse:
    """The owner decides whether the agency that runs this workspace may enter it, and with which role."""
    client = request.tenant
    if client.parent_agency_id is None:
        raise Http404("This workspace has no agency.")
    current = agency_grant_current(client=client)
    form = AgencyAccessForm(request.POST if request.method == "POST" else None,
                            initial={"role": current.role} if current else None)
    if request.method == "POST" and form.is_valid():
        try:
            agency_access_grant(client=client, role=form.cleaned_data["role"], actor_email=request.user.email)
        except AgencyAccessInvalid as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Your agency can now open this workspace.")
            return redirect("agency_access")
    return render(request, "affiliates/agencies/agency_access.html", {
        "active_section": "settings", "form": form, "current": current, "agency": client.parent_agency,
        "history": agency_grant_history(client=client)[:20],
    }, status=400 if form.errors else 200)


@staff_action_required(Action.MANAGE_SECURITY)
@require_POST
def agency_access_revoke_submit(request: HttpRequest) -> HttpResponse:
    try:
        agency_access_revoke(client=request.tenant, actor_email=request.user.email)
    except AgencyAccessInvalid as error:
        messages.info(request, error.message)
    else:
        messages.success(request, "Your agency's access was revoked; its staff were signed out of this workspace.")
    return redirect("agency_access")


@never_cache
@require_GET
def handoff_consume_view(request: HttpRequest, token: str) -> HttpResponse:
    """Signs agency staff in from their agency's 'Open workspace', once. A refusal answers 200, like the signup
    login link: Django logs the path of every 4xx, and this path is the token."""
    try:
        accepted = handoff_consume(token=token, client=request.tenant)
    except AgencyError as error:
        return render(request, "affiliates/agencies/handoff_invalid.html", {"message": error.message})
    login(request, accepted.user, backend="django.contrib.auth.backends.ModelBackend")
    # After login(), which starts a new session: the agency session lives in this one.
    request.session[AGENCY_SESSION_KEY] = accepted.session.as_session()
    messages.info(request, f"You are in {request.tenant.name}'s workspace as {accepted.session.acting_as}.")
    return redirect("dashboard")
