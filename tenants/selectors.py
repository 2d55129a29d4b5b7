"""Reads on tenants."""

from django.db.models import QuerySet

from tenants.exceptions import SlugInvalid
from tenants.models import Domain, Tenant, TenantAuditLog
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
