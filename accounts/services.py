"""Writes on a tenant's team: the owner at provisioning, invitations, roles, removal.

Every function runs in the current tenant schema (the request's, or a schema_context the caller opened).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.db import connection, transaction
from django.utils import timezone

from accounts.exceptions import AlreadyMember, InvitationInvalid, LastOwner, NotAllowed
from accounts.models import Invitation, Role, User
from accounts.permissions import Action, roles_assignable_by, user_can
from config.mail import email_message, email_render

INVITATION_LIFETIME = timedelta(days=7)


def owner_create(*, email: str, password_hash: str, full_name: str = "") -> User:
    """The tenant's first owner, created by provisioning with an already hashed password."""
    user = User.objects.create(email=email, password=password_hash, full_name=full_name, role=Role.OWNER)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
    return user


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invitation_create(*, email: str, role: str, invited_by: User, site_url: str, workspace_name: str) -> Invitation:
    """Invite someone to the team and email them a single-use link that expires in 7 days."""
    _require(invited_by, Action.MANAGE_TEAM)
    _require_assignable(invited_by, role)
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email, is_active=True).exists():
        raise AlreadyMember("This person is already on the team.", field="email")
    if Invitation.objects.filter(email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True).exists():
        raise AlreadyMember("This person already has an open invitation: resend it instead.", field="email")
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        email=email, role=role, invited_by=invited_by, token_hash=token_hash(token),
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    _invitation_email_send_on_commit(invitation, token=token, site_url=site_url, workspace_name=workspace_name)
    return invitation


@transaction.atomic
def owner_invitation_create(*, email: str, site_url: str, workspace_name: str) -> Invitation:
    """Invite the owner of a workspace someone else provisioned for them (an agency's client): their account is
    set aside (inactive, no usable password) until they accept, which activates it as owner with their own
    password. No inviter: nobody on the team sent it. Calling it again sends a new link (the old one stops
    working) until the owner has joined."""
    email = email.strip().lower()
    owner = User.objects.select_for_update().get(email__iexact=email, role=Role.OWNER)
    if owner.has_usable_password():
        raise AlreadyMember("The owner has already joined this workspace.")
    # Sent again (the first one expired or got lost): the earlier link stops working.
    Invitation.objects.filter(email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now())
    owner.is_active = False
    owner.set_unusable_password()
    owner.save(update_fields=["is_active", "password"])
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(email=email, role=Role.OWNER, invited_by=None, token_hash=token_hash(token),
                                           expires_at=timezone.now() + INVITATION_LIFETIME)
    _invitation_email_send_on_commit(invitation, token=token, site_url=site_url, workspace_name=workspace_name)
    return invitation


@transaction.atomic
def invitation_resend(*, invitation: Invitation, actor: User, site_url: str, workspace_name: str) -> Invitation:
    """A new link (the old one stops working) valid for another 7 days."""
    _require(actor, Action.MANAGE_TEAM)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open:
        raise InvitationInvalid("This invitation was already accepted or revoked.")
    token = secrets.token_urlsafe(32)
    invitation.token_hash = token_hash(token)
    invitation.expires_at = timezone.now() + INVITATION_LIFETIME
    invitation.save(update_fields=["token_hash", "expires_at"])
    _invitation_email_send_on_commit(invitation, token=token, site_url=site_url, workspace_name=workspace_name)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    _require(actor, Action.MANAGE_TEAM)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open:
        raise InvitationInvalid("This invitation was already accepted or revoked.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    return invitation


def invitation_for_token(token: str) -> Invitation:
    """The open, unexpired invitation this token belongs to, or InvitationInvalid saying why not."""
    invitation = Invitation.objects.filter(token_hash=token_hash(token)).first()
    if invitation is None:
        raise InvitationInvalid("This invitation link is not valid. Ask for a new one.")
    if invitation.revoked_at:
        raise InvitationInvalid("This invitation was revoked.")
    if invitation.accepted_at:
        raise InvitationInvalid("This invitation was already used. Sign in instead.")
    if invitation.is_expired:
        raise InvitationInvalid("This invitation has expired. Ask for a new one.")
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, password: str, full_name: str = "") -> User:
    """Join the team: create the account (or bring back a removed one) with the invited role."""
    invitation = invitation_for_token(token)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open:
        raise InvitationInvalid("This invitation was already used. Sign in instead.")
    user = User.objects.filter(email__iexact=invitation.email).first()
    if user is not None and user.is_active:
        raise AlreadyMember("This person is already on the team. Sign in instead.")
    if user is None:
        user = User(email=invitation.email)
    user.full_name = full_name.strip() or user.full_name
    user.role = invitation.role
    user.is_active = True
    user.set_password(password)
    user.save()
    # The invitation went to this address, so following its link verifies it.
    EmailAddress.objects.update_or_create(
        user=user, email=invitation.email, defaults={"primary": True, "verified": True}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return user


@transaction.atomic
def member_role_change(*, member: User, role: str, actor: User) -> User:
    _require(actor, Action.MANAGE_TEAM)
    _require_assignable(actor, role)
    owners = _active_owners_locked()
    member = User.objects.select_for_update().get(pk=member.pk)
    if member.role == Role.OWNER and actor.role != Role.OWNER:
        raise NotAllowed("Only an owner can change another owner's role.")
    if member.role == Role.OWNER and role != Role.OWNER and owners == [member.pk]:
        raise LastOwner("The workspace needs at least one owner: make someone else owner first.")
    member.role = role
    member.save(update_fields=["role"])
    return member


@transaction.atomic
def member_remove(*, member: User, actor: User) -> User:
    """Remove someone from the team. Their account is deactivated, not deleted, so history keeps its author."""
    _require(actor, Action.MANAGE_TEAM)
    owners = _active_owners_locked()
    member = User.objects.select_for_update().get(pk=member.pk)
    if member.role == Role.OWNER and actor.role != Role.OWNER:
        raise NotAllowed("Only an owner can remove an owner.")
    if member.role == Role.OWNER and owners == [member.pk]:
        raise LastOwner("The workspace needs at least one owner: make someone else owner first.")
    member.is_active = False
    member.save(update_fields=["is_active"])
    return member


def _active_owners_locked() -> list[int]:
    # Locking every owner row serialises concurrent demotions, so two owners can't demote each other at once.
    return list(User.objects.select_for_update().filter(role=Role.OWNER, is_active=True)
                .order_by("pk").values_list("pk", flat=True))


def _require(user: User, action: Action) -> None:
    if not user_can(user, action):
        raise NotAllowed("Your role does not allow this.")


def _require_assignable(actor: User, role: str) -> None:
    if role not in roles_assignable_by(actor.role):
        raise NotAllowed(f"Your role cannot give the {role} role.", field="role")


def _invitation_email_send_on_commit(invitation: Invitation, *, token: str, site_url: str,
                                     workspace_name: str) -> None:
    context = {
        "workspace_name": workspace_name, "role": invitation.get_role_display(),
        "accept_url": f"{site_url.rstrip('/')}/invitations/{token}/",
        "inviter": invitation.invited_by.get_full_name() if invitation.invited_by else workspace_name,
        "expires_at": invitation.expires_at,
    }
    # In the workspace's brand (config.mail): the schema is the workspace's, whoever invites.
    schema_name = connection.schema_name
    email = email_render(schema_name=schema_name, subject=f"You're invited to join {workspace_name}",
                         template="accounts/email/invitation", context=context)
    message = email_message(schema_name=schema_name, email=email, to=[invitation.email])
    transaction.on_commit(message.send)
