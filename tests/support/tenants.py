"""Tenants every test can use: committed in the template database, so no test pays for a schema clone."""

from django.test import Client

from tenants.models import Tenant
from tenants.services import public_tenant_ensure, tenant_provision

STANDARD_PASSWORD = "pw-standard-tenant-1"
STANDARD_TENANTS = {
    "alpha": {"name": "Alpha Co", "owner": "owner@alpha.test"},
    "beta": {"name": "Beta Inc", "owner": "owner@beta.test"},
}


def standard_tenants_seed() -> None:
    public_tenant_ensure()
    for slug, spec in STANDARD_TENANTS.items():
        tenant_provision(name=spec["name"], slug=slug, owner_email=spec["owner"], owner_password=STANDARD_PASSWORD)


def host_of(tenant: Tenant) -> str:
    return f"{tenant.slug}.localhost"


def client_for(tenant: Tenant | None) -> Client:
    """A test client whose requests go to the tenant's host (or the public host when tenant is None)."""
    return Client(HTTP_HOST=host_of(tenant) if tenant else "localhost")
