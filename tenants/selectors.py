"""Reads on tenants."""

import hmac

from django.db.models import QuerySet

from tenants.exceptions import SlugInvalid
from tenants.keys import api_key_hash, api_key_prefix, looks_like_api_key
from tenants.models import ApiKey, Domain, Tenant, TenantAuditLog
from tenants.slugs import primary_domain_for, slug_validate


def slug_availability(slug: str) -> tuple[bool, str]:
    """(available, message) for the live check on the signup form."""
    try:
        slug_validate(slug)
    except SlugInvalid as error:
        return False, error.message
    if Tenant.objects.filter(slug=slug).exists() or Domain.objects.filter(domain=primary_domain_for(slug)).exists():
        return False, "This name is already taken."
    return True, f"{primary_domain_for(slug)} is available."


def tenant_primary_domain(tenant: Tenant) -> str | None:
    return Domain.objects.filter(tenant=tenant, is_primary=True).values_list("domain", flat=True).first()


def tenant_client_list(*, agency: Tenant) -> QuerySet[Tenant]:
    return Tenant.objects.filter(parent_agency=agency).order_by("name")


def tenant_audit_log(*, tenant: Tenant) -> QuerySet[TenantAuditLog]:
    return TenantAuditLog.objects.filter(tenant=tenant).select_related("actor")


def api_key_list(*, tenant: Tenant) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(tenant=tenant)


def api_key_active_count(*, tenant: Tenant) -> int:
    return ApiKey.objects.filter(tenant=tenant, revoked_at__isnull=True).count()


def api_key_get(*, tenant: Tenant, api_key_id: int) -> ApiKey | None:
    return ApiKey.objects.filter(tenant=tenant, pk=api_key_id).first()


def api_key_for_secret(secret: str) -> ApiKey | None:
    """The key this secret belongs to (revoked or not), found by its prefix and confirmed by its hash."""
    if not looks_like_api_key(secret):
        return None
    candidate = ApiKey.objects.select_related("tenant").filter(prefix=api_key_prefix(secret)).first()
    if candidate is None or not hmac.compare_digest(candidate.key_hash, api_key_hash(secret)):
        return None
    return candidate
