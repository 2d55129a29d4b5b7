import pytest

from tenants.models import Tenant
from tenants.tasks import expired_sessions_clear_all
from tests.support.sessions import session_create, session_keys

pytestmark = pytest.mark.django_db


def test_clear_all_clears_public_and_every_open_tenant_in_its_own_schema(tenant_alpha, tenant_beta):
    for schema in ["public", "alpha", "beta"]:
        session_create(schema, expired=True, key=f"{schema}-old")
        session_create(schema, expired=False, key=f"{schema}-live")

    expired_sessions_clear_all.delay()

    for schema in ["public", "alpha", "beta"]:
        assert session_keys(schema) == {f"{schema}-live"}


def test_clear_all_skips_closed_tenants(tenant_alpha):
    Tenant.objects.filter(pk=tenant_alpha.pk).update(status=Tenant.Status.CLOSED)
    session_create("alpha", expired=True, key="alpha-old")

    expired_sessions_clear_all.delay()

    assert session_keys("alpha") == {"alpha-old"}
