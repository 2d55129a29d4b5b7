"""Staff pages of accounts on a tenant's host: the team and joining by invitation."""

from typing import Any

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors, services
from accounts.exceptions import TeamError
from accounts.forms import InvitationAcceptForm, InvitationCreateForm, MemberRoleChangeForm
from accounts.models import Invitation, User
from accounts.permissions import Action, roles_assignable_by, staff_action_required, user_can
from tenants.urls_for import tenant_url


# --- Team -----------------------------------------------------------------------------------------

@staff_action_required(Action.USE_PRODUCT)
@require_GET
def team_page(request: HttpRequest) -> HttpResponse:
    return _team_page_render(request)


@staff_action_required(Action.MANAGE_TEAM)
@require_POST
def team_invitation_create(request: HttpRequest) -> HttpResponse:
    form = InvitationCreateForm(request.POST, roles=roles_assignable_by(request.user.role))
    if form.is_valid():
        try:
            invitation = services.invitation_create(
                email=form.cleaned_data["email"], role=form.cleaned_data["role"], invited_by=request.user,
                site_url=tenant_url(request.tenant, ""), workspace_name=request.tenant.name,
            )
        except TeamError as error:
            form.add_error(error.field, error.message)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("section_team")
    return _team_page_render(request, invite_form=form, status=400)


@staff_action_required(Action.MANAGE_TEAM)
@require_POST
def team_invitation_resend(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = _invitation_or_404(invitation_id)
    try:
        services.invitation_resend(invitation=invitation, actor=request.user,
                                   site_url=tenant_url(request.tenant, ""), workspace_name=request.tenant.name)
    except TeamError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"A new link was sent to {invitation.email}; the previous one no longer works.")
    return redirect("section_team")


@staff_action_required(Action.MANAGE_TEAM)
@require_POST
def team_invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = _invitation_or_404(invitation_id)
    try:
        services.invitation_revoke(invitation=invitation, actor=request.user)
    except TeamError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The invitation to {invitation.email} was revoked.")
    return redirect("section_team")


@staff_action_required(Action.MANAGE_TEAM)
@require_POST
def team_member_role_change(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _member_or_404(member_id)
    form = MemberRoleChangeForm(request.POST, roles=roles_assignable_by(request.user.role), member=member)
    if not form.is_valid():
        messages.error(request, f"Choose one of the offered roles for {member.email}.")
        return redirect("section_team")
    try:
        member = services.member_role_change(member=member, role=form.cleaned_data["role"], actor=request.user)
    except TeamError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{member.email} is now {member.get_role_display()}.")
    return redirect("section_team")


@staff_action_required(Action.MANAGE_TEAM)
@require_http_methods(["GET", "POST"])
def team_member_remove(request: HttpRequest, member_id: int) -> HttpResponse:
    """GET asks for confirmation; POST removes."""
    member = _member_or_404(member_id)
    if request.method == "GET":
        return render(request, "staff/member_remove_confirm.html",
                                 {"member": member, "active_section": "team"})
    try:
        services.member_remove(member=member, actor=request.user)
    except TeamError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{member.email} was removed from the team.")
    return redirect("section_team")


def _team_page_render(request: HttpRequest, *, invite_form: InvitationCreateForm | None = None,
                      status: int = 200) -> HttpResponse:
    assignable = roles_assignable_by(request.user.role)
    can_manage = user_can(request.user, Action.MANAGE_TEAM)
    # A member is managed by whoever may hand out their current role: admins don't manage owners.
    members = [
        (member, MemberRoleChangeForm(roles=assignable, member=member)
         if can_manage and member.role in assignable else None)
        for member in selectors.member_list()
    ]
    context: dict[str, Any] = {"active_section": "team", "members": members}
    if can_manage:
        context["invite_form"] = invite_form or InvitationCreateForm(roles=assignable)
        context["invitations"] = selectors.invitation_open_list()
    return render(request, "staff/team.html", context, status=status)


def _invitation_or_404(invitation_id: int) -> Invitation:
    invitation = selectors.invitation_get(invitation_id=invitation_id)
    if invitation is None:
        raise Http404("No such invitation.")
    return invitation


def _member_or_404(member_id: int) -> User:
    member = selectors.member_get(member_id=member_id)
    if member is None:
        raise Http404("No such team member.")
    return member


# --- Joining by invitation -----------------------------------------------------------------------

@never_cache
@require_http_methods(["GET", "POST"])
def team_join(request: HttpRequest, token: str) -> HttpResponse:
    """The invitation link: anyone holding it may set a name and password and join with the invited role.

    Every page here answers 200, form errors and dead links included (as Django's own forms and password-reset
    pages do): Django logs the path of every 4xx response, and this path carries the token.
    """
    try:
        invitation = services.invitation_for_token(token)
    except TeamError as error:
        return _invitation_invalid_render(request, error)
    form = InvitationAcceptForm(request.POST if request.method == "POST" else None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(token=token, password=form.cleaned_data["password1"],
                                              full_name=form.cleaned_data["full_name"])
        except TeamError as error:
            return _invitation_invalid_render(request, error)
        if is_mfa_enabled(user):
            # A removed member who comes back keeps their second factor: the link sets a password, no more.
            messages.success(request, f"Welcome back to {request.tenant.name}. Sign in with your new password "
                                      "and your second factor.")
            return redirect("account_login")
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to {request.tenant.name}.")
        return redirect("dashboard")
    return render(request, "accounts/invitation_accept.html",
                  {"form": form, "invitation": invitation, "workspace_name": request.tenant.name})


def _invitation_invalid_render(request: HttpRequest, error: TeamError) -> HttpResponse:
    return render(request, "accounts/invitation_invalid.html", {"message": error.message})
