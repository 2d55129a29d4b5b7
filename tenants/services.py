"""Writes on tenants: provisioning, status changes (with their audit record), the signup login link."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from accounts.services import owner_create
from tenants import schemas
from tenants.exceptions import (
    ApiKeyInvalid,
    ApiKeyScopeExceeded,
    LoginLinkInvalid,
    LoginLinkNeedsSecondFactor,
    SlugTaken,
    TenantStatusChangeInvalid,
)
from tenants.keys import API_KEY_PREFIX, API_KEY_SECRET_BYTES, api_key_hash, api_key_prefix
from tenants.models import ApiKey, Domain, IdempotencyRecord, Tenant, TenantAuditLog
from tenants.slugs import primary_domain_for, schema_name_for, slug_validate

logger = logging.getLogger(__name__)

LOGIN_LINK_SALT = "tenants.login-link"


@dataclass(frozen=True)
class ProvisionResult:
    tenant: Tenant
    owner_id: int
    created: bool  # False: an earlier request made it. Only the request that created a tenant may sign its owner in.


# Says whether a password is an existing owner's, called as check(email=..., password=...) in the tenant's schema.
OwnerPasswordCheck = Callable[..., bool]


def tenant_provision(
    *,
    name: str,
    slug: str,
    owner_email: str,
    owner_password: str | None,
    tenant_type: str = Tenant.Type.BUSINESS,
    billing_email: str = "",
    parent_agency: Tenant | None = None,
    owner_password_check: OwnerPasswordCheck | None = None,
) -> ProvisionResult:
    """Create a tenant with its schema, primary domain and owner account, all or nothing.

    Idempotent: the same slug requested again by the same owner returns the existing tenant (created=False),
    so a double-submitted signup or a retried script gives one tenant. A replay that gives a password must give
    the owner's: `owner_password_check` decides (a plain hash comparison by default; the signup passes the
    login page's rate-limited check, so a replay is one more login attempt, never a way around its limit).
    Every step runs in one database transaction; PostgreSQL DDL is transactional, so a failure at any step leaves
    no row, schema or domain.
    """
    slug = slug_validate(slug.strip().lower())
    owner_email = owner_email.strip().lower()
    password_check = owner_password_check or _owner_password_matches
    existing = _provisioned_tenant_for_owner(slug=slug, owner_email=owner_email, owner_password=owner_password,
                                             password_check=password_check)
    if existing is not None:
        return existing
    # Hashing is deliberately slow; do it before the transaction so no lock waits on it.
    password_hash = make_password(owner_password)
    try:
        with transaction.atomic():
            tenant = _tenant_row_create(
                name=name.strip(), slug=slug, tenant_type=tenant_type, owner_email=owner_email,
                billing_email=(billing_email or owner_email).strip().lower(), parent_agency=parent_agency,
            )
            _schema_clone(tenant)
            _domain_create(tenant)
            owner_id = _owner_create(tenant, email=owner_email, password_hash=password_hash, full_name="")
    except IntegrityError:
        # Lost a race with an identical request (or the slug was just taken): answer as a retry would.
        connection.set_schema_to_public()
        existing = _provisioned_tenant_for_owner(slug=slug, owner_email=owner_email, owner_password=owner_password,
                                                 password_check=password_check)
        if existing is not None:
            return existing
        raise
    finally:
        connection.set_schema_to_public()
    logger.info("tenant_provisioned slug=%s type=%s", tenant.slug, tenant.type)
    return ProvisionResult(tenant=tenant, owner_id=owner_id, created=True)


def _provisioned_tenant_for_owner(
    *, slug: str, owner_email: str, owner_password: str | None, password_check: OwnerPasswordCheck
) -> ProvisionResult | None:
    """The tenant an identical earlier request created, None if the slug is free; SlugTaken otherwise.

    "Identical" includes the password when one is given, so a stranger who knows an owner's email and
    workspace name learns nothing more than that the name is taken.
    """
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        return None
    if tenant.owner_email != owner_email:
        raise SlugTaken("This name is already taken.", field="slug")
    with schema_context(tenant.schema_name):
        owner = User.objects.filter(email=owner_email).first()
        # Inside the tenant's schema: the check may rehash and save the owner, and counts attempts there.
        matches = owner is not None and (
            owner_password is None or password_check(email=owner_email, password=owner_password)
        )
    if not matches:
        raise SlugTaken("This name is already taken.", field="slug")
    return ProvisionResult(tenant=tenant, owner_id=owner.pk, created=False)


def _owner_password_matches(*, email: str, password: str) -> bool:
    owner = User.objects.filter(email=email).first()
    return owner is not None and owner.check_password(password)


def _tenant_row_create(
    *, name: str, slug: str, tenant_type: str, owner_email: str, billing_email: str, parent_agency: Tenant | None
) -> Tenant:
    tenant = Tenant(
        name=name or slug, slug=slug, schema_name=schema_name_for(slug), type=tenant_type,
        owner_email=owner_email, billing_email=billing_email, parent_agency=parent_agency,
    )
    tenant.full_clean(exclude=["schema_name", "slug"])
    tenant.save()
    return tenant


def _schema_clone(tenant: Tenant) -> None:
    schemas.schema_clone_from_template(tenant.schema_name)


def _domain_create(tenant: Tenant) -> Domain:
    return Domain.objects.create(domain=primary_domain_for(tenant.slug), tenant=tenant, is_primary=True)


def _owner_create(tenant: Tenant, *, email: str, password_hash: str, full_name: str) -> int:
    with schema_context(tenant.schema_name):
        return owner_create(email=email, password_hash=password_hash, full_name=full_name).pk


# --- Status changes ---------------------------------------------------------------------------

ALLOWED_STATUS_CHANGES = {
    "suspend": ({Tenant.Status.ACTIVE}, Tenant.Status.SUSPENDED),
    "reactivate": ({Tenant.Status.SUSPENDED, Tenant.Status.CLOSED}, Tenant.Status.ACTIVE),
    "close": ({Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED}, Tenant.Status.CLOSED),
}
AUDITED_FIELDS = ["name", "type", "status", "parent_agency_id", "billing_email", "owner_email", "require_mfa"]
EDITABLE_FIELDS = {
    TenantAuditLog.Source.OPS: {"name", "type", "parent_agency", "billing_email", "require_mfa"},
    TenantAuditLog.Source.STAFF: {"name", "billing_email", "require_mfa"},
}


def tenant_suspend(*, tenant: Tenant, actor: Any, reason: str = "") -> Tenant:
    """Block access to the tenant's host; nothing is deleted and reactivation restores everything."""
    return _tenant_status_change(tenant=tenant, actor=actor, action="suspend", reason=reason)


def tenant_reactivate(*, tenant: Tenant, actor: Any, reason: str = "") -> Tenant:
    return _tenant_status_change(tenant=tenant, actor=actor, action="reactivate", reason=reason)


def tenant_close(*, tenant: Tenant, actor: Any, reason: str = "") -> Tenant:
    """Close the workspace: access is blocked, the schema and its data stay for export."""
    return _tenant_status_change(tenant=tenant, actor=actor, action="close", reason=reason)


@transaction.atomic
def _tenant_status_change(*, tenant: Tenant, actor: Any, action: str, reason: str) -> Tenant:
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    allowed_from, target = ALLOWED_STATUS_CHANGES[action]
    if locked.is_public:
        raise TenantStatusChangeInvalid("The public tenant's status cannot change.")
    if locked.status not in allowed_from:
        raise TenantStatusChangeInvalid(f"A {locked.get_status_display().lower()} tenant cannot {action}.")
    before = _audited_state(locked)
    locked.status = target
    locked.status_changed_at = timezone.now()
    locked.save(update_fields=["status", "status_changed_at"])
    _audit_record(tenant=locked, actor=actor, action=action, before=before, after=_audited_state(locked),
                  reason=reason)
    tenant.status, tenant.status_changed_at = locked.status, locked.status_changed_at
    return locked


@transaction.atomic
def tenant_update(
    *, tenant: Tenant, actor: Any, source: str = TenantAuditLog.Source.OPS, **fields: Any
) -> Tenant:
    """Change a tenant's editable fields (ops in the admin, or its own staff on Settings) and record what changed.

    Whether the staff member's role allows it is the caller's check (accounts.permissions)."""
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    before = _audited_state(locked)
    unknown = set(fields) - EDITABLE_FIELDS[source]
    if unknown:
        raise ValueError(f"Not editable here: {', '.join(sorted(unknown))}")
    for field, value in fields.items():
        setattr(locked, field, value)
    locked.full_clean(exclude=["schema_name", "slug"])
    locked.save(update_fields=list(fields))
    after = _audited_state(locked)
    if after != before:
        _audit_record(tenant=locked, actor=actor, action="update", before=before, after=after, source=source)
    for field in fields:
        setattr(tenant, field, getattr(locked, field))
    return locked


def _audited_state(tenant: Tenant) -> dict[str, Any]:
    return {field: getattr(tenant, field) for field in AUDITED_FIELDS}


def _audit_record(
    *, tenant: Tenant, actor: Any, action: str, before: dict, after: dict, reason: str = "",
    source: str = TenantAuditLog.Source.OPS,
) -> TenantAuditLog:
    changed_before = {k: v for k, v in before.items() if after.get(k) != v}
    changed_after = {k: after[k] for k in changed_before}
    if reason:
        changed_after["reason"] = reason
    # A staff member's id belongs to their tenant's schema, not to the public user table the FK points at.
    actor_id = getattr(actor, "pk", None) if source == TenantAuditLog.Source.OPS else None
    return TenantAuditLog.objects.create(
        tenant=tenant, actor_id=actor_id, actor_email=getattr(actor, "email", "") or "", action=action,
        before=changed_before, after=changed_after, source=source,
    )


def tenant_audit_record(*, tenant: Tenant, actor_email: str, action: str, details: dict[str, Any],
                        source: str = TenantAuditLog.Source.STAFF) -> TenantAuditLog:
    """Record something done to or in a tenant that is not a change of its fields (the other apps' events, e.g.
    an agency creating a client workspace or acting in one), with what the reader needs to know in `details`."""
    return TenantAuditLog.objects.create(tenant=tenant, actor_email=actor_email, action=action, after=details,
                                         source=source)


# --- Extra host names (custom domains) -------------------------------------------------------

def domain_route_add(*, tenant: Tenant, hostname: str) -> Domain:
    """Route `hostname` to `tenant` beside its primary host (whoever proved the hostname decides; this only
    routes). A hostname already routed to another tenant is never moved: ValueError, since the callers' own
    rules (one holder per hostname) make that a bug, not a user error."""
    domain, _ = Domain.objects.get_or_create(domain=hostname, defaults={"tenant": tenant, "is_primary": False})
    if domain.tenant_id != tenant.pk or domain.is_primary:
        raise ValueError(f"{hostname} already routes elsewhere")
    return domain


def domain_route_remove(*, tenant: Tenant, hostname: str) -> None:
    """Stop routing `hostname` to `tenant`, at once in every process (the Domain signals forget the cached route).
    The primary host is never removed here."""
    for domain in Domain.objects.filter(domain=hostname, tenant=tenant, is_primary=False):
        domain.delete()


# --- Public tenant ----------------------------------------------------------------------------

def public_tenant_ensure() -> Tenant:
    """The public schema's own Tenant row and its domain (BASE_DOMAIN); kept in step on every migrate."""
    public, _ = Tenant.objects.get_or_create(
        schema_name=settings.PUBLIC_SCHEMA_NAME,
        defaults={"name": "Tollgate", "slug": settings.PUBLIC_SCHEMA_NAME, "type": Tenant.Type.BUSINESS},
    )
    Domain.objects.update_or_create(domain=settings.BASE_DOMAIN, defaults={"tenant": public, "is_primary": True})
    return public


# --- Signup login link ------------------------------------------------------------------------

def login_link_token_create(*, tenant: Tenant, user_id: int) -> str:
    """A signed token that logs the owner in on their tenant host once: cookies don't cross hosts.

    Single use without a table: it carries the user's last_login, and logging in changes it.
    """
    with schema_context(tenant.schema_name):
        last_login = User.objects.values_list("last_login", flat=True).get(pk=user_id)
    payload = {"s": tenant.schema_name, "u": user_id, "l": last_login.isoformat() if last_login else ""}
    return signing.dumps(payload, salt=LOGIN_LINK_SALT, compress=True)


def login_link_token_check(*, token: str, tenant: Tenant) -> User:
    """Return the user the token was made for, or raise LoginLinkInvalid. The caller logs them in.

    Run in the tenant's schema. A link never stands in for a second factor: when the user has one (allauth.mfa)
    or the workspace requires it, LoginLinkNeedsSecondFactor sends them through the login page instead.
    """
    from allauth.mfa.utils import is_mfa_enabled

    try:
        payload = signing.loads(token, salt=LOGIN_LINK_SALT, max_age=settings.TENANT_LOGIN_LINK_MAX_AGE_S)
    except signing.BadSignature:
        raise LoginLinkInvalid("This sign-in link is invalid or has expired.") from None
    if payload.get("s") != tenant.schema_name:
        raise LoginLinkInvalid("This sign-in link is for another workspace.")
    user = User.objects.filter(pk=payload.get("u"), is_active=True).first()
    current_last_login = user.last_login.isoformat() if user and user.last_login else ""
    if user is None or payload.get("l") != current_last_login:
        raise LoginLinkInvalid("This sign-in link has already been used.")
    if tenant.require_mfa or is_mfa_enabled(user):
        raise LoginLinkNeedsSecondFactor("Sign in with your password and your second factor.")
    return user


# --- API keys ---------------------------------------------------------------------------------

API_KEY_LAST_USED_EVERY_S = 60


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    secret: str  # the full key: shown to its creator once, never stored


def api_key_create(*, tenant: Tenant, name: str, scopes: list[str], created_by: str,
                   creator_scopes: Sequence[str] | None = None) -> CreatedApiKey:
    """Create a key bound to one tenant. The caller shows `secret` once; only its hash is kept. When a key
    creates it, `creator_scopes` are that key's scopes, and the new key may have no others."""
    api_key_scopes_check(scopes=scopes, creator_scopes=creator_scopes)
    name = name.strip()
    if not name:
        raise ApiKeyInvalid("Give the key a name.", field="name")
    unknown = sorted(set(scopes) - set(ApiKey.Scope.values))
    if unknown or not scopes:
        raise ApiKeyInvalid(f"Unknown scopes: {', '.join(unknown)}." if unknown else "Choose at least one scope.",
                            field="scopes")
    secret = f"{API_KEY_PREFIX}{secrets.token_urlsafe(API_KEY_SECRET_BYTES)}"
    api_key = ApiKey.objects.create(
        tenant=tenant, name=name, scopes=sorted(set(scopes)), created_by=created_by,
        prefix=api_key_prefix(secret), key_hash=api_key_hash(secret),
    )
    # The id, not the prefix: `tg_live_` never appears in a log, so a secret scanner's hit there is always real.
    logger.info("api_key_created tenant=%s api_key_id=%s", tenant.slug, api_key.pk)
    return CreatedApiKey(api_key=api_key, secret=secret)


def api_key_scopes_check(*, scopes: Sequence[str], creator_scopes: Sequence[str] | None) -> None:
    """A key can only create keys with scopes it has itself, so a key cannot raise its own rights. None: no key
    is creating (a person, whose role decides, or ops). Also called on its own before an idempotent replay is
    served, so a replay cannot hand a weaker key what a stronger one created."""
    if creator_scopes is not None and not set(scopes) <= set(creator_scopes):
        raise ApiKeyScopeExceeded("An API key cannot create a key with scopes it does not have.",
                                  details={"key_scopes": list(creator_scopes), "requested_scopes": list(scopes)})


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke a key; it stops working on the next request. Revoking twice is harmless."""
    locked = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        logger.info("api_key_revoked tenant_id=%s api_key_id=%s", locked.tenant_id, locked.pk)
    return locked


# When this process last recorded each key's use: most requests then need neither Redis nor the database.
_marked_used_at: dict[int, datetime] = {}
MARKED_USED_REMEMBERED = 10_000


def api_key_mark_used(*, api_key: ApiKey) -> None:
    """Record that the key was used, at most once a minute per key: this process asks the shared cache flag
    (which gates the UPDATE across processes) at most once a minute per key. With Redis unavailable the flag
    reads as not set, so each process updates the key at most once a minute on its own."""
    now = timezone.now()
    last = _marked_used_at.get(api_key.pk)
    if last is not None and (now - last).total_seconds() < API_KEY_LAST_USED_EVERY_S:
        return
    if len(_marked_used_at) >= MARKED_USED_REMEMBERED:
        _marked_used_at.clear()
    _marked_used_at[api_key.pk] = now
    # False: another process marked the key this minute. None: Redis failed (the default cache ignores its
    # errors, see config/redis_guard.py), which must neither fail the request nor lose the mark.
    if cache.add(f"api-key-used:{api_key.pk}", 1, timeout=API_KEY_LAST_USED_EVERY_S) is not False:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


def idempotency_records_expire() -> int:
    """Delete Idempotency-Key records past their 24 hours (the beat job runs this hourly)."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
