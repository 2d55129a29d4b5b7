import itertools

from tenants.services import ProvisionResult, tenant_provision

_sequence = itertools.count(1)
PASSWORD = "pw-factory-tenant-1"


def provisioned_tenant(**overrides) -> ProvisionResult:
    """Provision a fresh tenant (clones the template schema: use tenant_alpha/tenant_beta when any tenant will do)."""
    n = next(_sequence)
    fields = {
        "name": f"Factory {n}", "slug": f"factory-{n}", "owner_email": f"owner{n}@factory.test",
        "owner_password": PASSWORD,
    }
    fields.update(overrides)
    return tenant_provision(**fields)
