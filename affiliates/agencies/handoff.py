"""The hand-off of one agency staff member into a client's workspace, and the agency session it opens there.

1. On the agency's host, `handoff_create` checks that the client is the agency's, that the client's grant is
   current and that the second factor is respected (staff who have MFA must have verified it in this agency
   session; a client that requires MFA refuses staff without it), then stores a hand-off (the SHA-256 of a
   signed token, valid HANDOFF_MAX_AGE_S seconds) and answers the URL of the client's host that consumes it.
2. On the client's host, `handoff_consume` checks the token (signature, workspace, not used, not expired, grant
   still current) under a row lock, marks it used, and signs the staff member in as a **shadow account** of the
   client's schema: one per agency staff member, `<name>.<hash>@<agency slug>.agency.invalid` (a reserved domain:
   it can never be a real person's address nor receive mail), no usable password, with the grant's role.
3. The session carries AGENCY_SESSION_KEY; affiliates.agencies.middleware re-checks the grant on every request,
   refuses what agency staff may never do there, and writes every change they make to the client's audit log
   as "agency staff X acting for agency Y".
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.core import signing
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from affiliates.agencies.exceptions import AgencyAccessRefused, ClientNotFound, HandoffInvalid
from affiliates.models import AgencyAccessGrant, AgencyHandoff
from tenants.models import Tenant, TenantAuditLog
from tenants.services import tenant_audit_record
from tenants.urls_for import tenant_url

HANDOFF_SALT = "affiliates.agency-handoff"
HANDOFF_MAX_AGE_S = 60  # a redirect follows at once; a minute covers a slow browser, not a link kept for later
AGENCY_SESSION_KEY = "agency_session"
SHADOW_DOMAIN_SUFFIX = ".agency.invalid"


@dataclass(frozen=True)
class AgencySession:
    """What an agency session on a client's host carries (JSON in the session)."""

    grant_id: int
    agency_slug: str
    agency_name: str
    staff_email: str
    second_factor_verified: bool

    @property
    def acting_as(self) -> str:
        return f"agency staff {self.staff_email} acting for agency {self.agency_name}"

    def as_session(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class HandoffAccepted:
    user: User
    session: AgencySession


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- On the agency's host -------------------------------------------------------------------------------------

@transaction.atomic
def handoff_create(*, agency: Tenant, client_slug: str, staff_email: str, staff_has_mfa: bool,
                   second_factor_verified: bool, now: datetime | None = None) -> str:
    """The single-use URL that signs `staff_email` into the client's workspace, or a refusal saying why."""
    now = now or timezone.now()
    client = Tenant.objects.filter(slug=client_slug, parent_agency=agency).first()
    if client is None:
        raise ClientNotFound("No client workspace of yours has this name.")
    grant = AgencyAccessGrant.objects.filter(client=client, agency=agency, revoked_at__isnull=True).first()
    if grant is None:
        raise AgencyAccessRefused(f"{client.name} has not given your agency access to its workspace.")
    if not client.is_active:
        raise AgencyAccessRefused(f"{client.name}'s workspace is {client.get_status_display().lower()}.")
    if staff_has_mfa and not second_factor_verified:
        raise AgencyAccessRefused("Sign in again with your second factor before opening a client's workspace.")
    if client.require_mfa and not staff_has_mfa:
        raise AgencyAccessRefused(f"{client.name} requires two-factor authentication: set it up on your own "
                                  "security page first.")
    token = signing.dumps({"c": client.schema_name, "n": secrets.token_urlsafe(32)}, salt=HANDOFF_SALT)
    AgencyHandoff.objects.create(grant=grant, token_hash=token_hash(token), staff_email=staff_email.lower(),
                                 staff_mfa_verified=second_factor_verified, created_at=now,
                                 expires_at=now + timedelta(seconds=HANDOFF_MAX_AGE_S))
    return tenant_url(client, f"/agency/handoff/{token}/")


# --- On the client's host (its schema is the connection's) ----------------------------------------------------

@transaction.atomic
def handoff_consume(*, token: str, client: Tenant, now: datetime | None = None) -> HandoffAccepted:
    """Check and use the token once; return the shadow account to sign in and the agency session to keep.
    The caller signs the user in and stores `session.as_session()` under AGENCY_SESSION_KEY."""
    now = now or timezone.now()
    try:
        payload = signing.loads(token, salt=HANDOFF_SALT, max_age=HANDOFF_MAX_AGE_S)
    except signing.SignatureExpired:
        raise HandoffInvalid("This link has expired: open the workspace again from your agency.") from None
    except signing.BadSignature:
        raise HandoffInvalid("This link is not valid.") from None
    if payload.get("c") != client.schema_name:
        raise HandoffInvalid("This link is for another workspace.")
    handoff = (AgencyHandoff.objects.select_for_update().select_related("grant__agency")
               .filter(token_hash=token_hash(token), grant__client=client).first())
    if handoff is None:
        raise HandoffInvalid("This link is not valid.")
    if handoff.used_at is not None:
        raise HandoffInvalid("This link was already used: open the workspace again from your agency.")
    if handoff.expires_at <= now:
        raise HandoffInvalid("This link has expired: open the workspace again from your agency.")
    grant = AgencyAccessGrant.objects.select_related("agency").get(pk=handoff.grant_id)
    if grant.revoked_at is not None:
        raise AgencyAccessRefused("This workspace no longer gives your agency access.")
    if client.require_mfa and not handoff.staff_mfa_verified:
        raise AgencyAccessRefused("This workspace requires two-factor authentication.")
    handoff.used_at = now
    handoff.save(update_fields=["used_at"])
    session = AgencySession(grant_id=grant.pk, agency_slug=grant.agency.slug, agency_name=grant.agency.name,
                            staff_email=handoff.staff_email, second_factor_verified=handoff.staff_mfa_verified)
    user = _shadow_user_ensure(agency=grant.agency, staff_email=handoff.staff_email, role=grant.role)
    tenant_audit_record(tenant=client, actor_email=handoff.staff_email, action="agency_handoff",
                        details={"acting": session.acting_as, "agency": grant.agency.slug, "role": grant.role},
                        source=TenantAuditLog.Source.AGENCY)
    return HandoffAccepted(user=user, session=session)


def agency_session_current(*, data: dict, client: Tenant) -> AgencySession | None:
    """The agency session in `data` (a session's AGENCY_SESSION_KEY) if its grant is still current for this
    client and the client's second-factor rule still holds; None otherwise. One query, on agency sessions only."""
    try:
        session = AgencySession(**data)
    except TypeError:
        return None
    if client.require_mfa and not session.second_factor_verified:
        return None
    current = AgencyAccessGrant.objects.filter(pk=session.grant_id, client=client, revoked_at__isnull=True).exists()
    return session if current else None


# --- Shadow accounts ------------------------------------------------------------------------------------------

def shadow_email_for(*, agency: Tenant, staff_email: str) -> str:
    local = re.sub(r"[^a-z0-9._-]", "", staff_email.split("@")[0].lower())[:30] or "staff"
    return f"{local}.{token_hash(staff_email.lower())[:8]}@{agency.slug}{SHADOW_DOMAIN_SUFFIX}"


def is_shadow_email(email: str) -> bool:
    return email.lower().endswith(SHADOW_DOMAIN_SUFFIX)


def _shadow_user_ensure(*, agency: Tenant, staff_email: str, role: str) -> User:
    email = shadow_email_for(agency=agency, staff_email=staff_email)
    user = User.objects.select_for_update().filter(email=email).first()
    if user is None:
        user = User(email=email)
    # The role is the grant's at every hand-off, whatever was changed on the Team page meanwhile.
    user.set_unusable_password()
    user.full_name = f"{staff_email} (agency {agency.name})"[:150]
    user.role = role
    user.is_active = True
    user.is_staff = False
    user.save()
    return user


def shadow_users_deactivate(*, agency: Tenant) -> int:
    """Deactivate the agency's shadow accounts in the current schema (a client's): the grant ended."""
    return User.objects.filter(email__iendswith=f"@{agency.slug}{SHADOW_DOMAIN_SUFFIX}").update(is_active=False)
