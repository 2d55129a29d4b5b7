"""Reads on tenants. The two lookups every request makes (the tenant of a host name, the API key of a secret)
are cached per process (config.lookup_cache) and forgotten everywhere by tenants.signals whenever their rows
change."""

import hmac

from django.db.models import QuerySet

from config.lookup_cache import lookup_cached, lookup_key
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


def tenant_for_schema(schema_name: str) -> Tenant | None:
    """The tenant whose schema this is (the public schema's is the platform's own row), or None."""
    return Tenant.objects.filter(schema_name=schema_name).first()


def tenant_primary_domain(tenant: Tenant) -> str | None:
    return Domain.objects.filter(tenant=tenant, is_primary=True).values_list("domain", flat=True).first()


def custom_domain_count(*, tenant: Tenant) -> int:
    """Host names the tenant brought, beyond its primary <slug>.<BASE_DOMAIN> one: what its plan's custom-domain
    limit counts. A client's host under its reseller agency's own domain (<client>.<agency-domain>) is the
    agency's, so it is not counted against the client."""
    hosts = list(Domain.objects.filter(tenant=tenant, is_primary=False).values_list("domain", flat=True))
    if hosts and tenant.parent_agency_id:
        agency_hosts = tuple(f".{host}" for host in Domain.objects.filter(
            tenant_id=tenant.parent_agency_id, is_primary=False).values_list("domain", flat=True))
        hosts = [host for host in hosts if not (agency_hosts and host.endswith(agency_hosts))]
    return len(hosts)


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


def tenant_for_hostname(hostname: str) -> Tenant | None:
    """The tenant a host name routes to (any status), or None."""
    def load() -> Tenant | None:
        domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
        return domain.tenant if domain else None

    return lookup_cached(tenant_route_key(hostname), load)


def api_key_for_secret(secret: str) -> ApiKey | None:
    """The key this secret belongs to (revoked or not), found by its prefix and confirmed by its hash. Its
    `tenant` is not loaded: compare `tenant_id` with the request's tenant."""
    if not looks_like_api_key(secret):
        return None
    prefix = api_key_prefix(secret)
    candidate = lookup_cached(api_key_lookup_key(prefix), lambda: ApiKey.objects.filter(prefix=prefix).first())
    if candidate is None or not hmac.compare_digest(candidate.key_hash, api_key_hash(secret)):
        return None
    return candidate


def tenant_route_key(hostname: str) -> str:
    return lookup_key("tenant-route", hostname)


def api_key_lookup_key(prefix: str) -> str:
    return lookup_key("api-key", prefix)
