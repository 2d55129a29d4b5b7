import pytest
from django.conf import settings

from tenants.models import Tenant

pytestmark = pytest.mark.django_db


def test_customers_leave_out_the_public_schemas_row():
    customers = set(Tenant.objects.customers().values_list("schema_name", flat=True))

    assert Tenant.objects.filter(schema_name=settings.PUBLIC_SCHEMA_NAME).exists()
    assert settings.PUBLIC_SCHEMA_NAME not in customers


def test_customers_include_every_provisioned_tenant():
    customers = set(Tenant.objects.customers().values_list("slug", flat=True))

    assert {"alpha", "beta"} <= customers


def test_customers_leave_out_a_row_for_the_template_schema():
    Tenant.objects.create(schema_name=settings.TENANT_BASE_SCHEMA, name="Template",
                          slug=settings.TENANT_BASE_SCHEMA.replace("_", "-"))

    assert not Tenant.objects.customers().filter(schema_name=settings.TENANT_BASE_SCHEMA).exists()

