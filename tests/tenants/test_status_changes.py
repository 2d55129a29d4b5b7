import pytest
from django_tenants.utils import schema_context

from accounts.models import User
from tenants.exceptions import TenantStatusChangeInvalid
from tenants.models import Tenant, TenantAuditLog
from tenants.services import tenant_close, tenant_reactivate, tenant_suspend, tenant_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db):
    return User.objects.create_superuser("operator@tollgate.test", "pw-operator-123")


def test_suspend_records_who_what_and_when_in_the_audit_log(tenant_alpha, operator):
    tenant_suspend(tenant=tenant_alpha, actor=operator, reason="chargeback")

    entry = TenantAuditLog.objects.get(tenant=tenant_alpha)
    assert entry.action == "suspend"
    assert entry.actor == operator and entry.actor_email == "operator@tollgate.test"
    assert entry.before == {"status": "active"}
    assert entry.after == {"status": "suspended", "reason": "chargeback"}
    assert entry.created_at is not None


def test_suspended_host_shows_the_suspended_page_on_every_path(tenant_alpha, operator, alpha_owner_client):
    tenant_suspend(tenant=tenant_alpha, actor=operator)

    for path in ["/", "/accounts/login/", "/usage/", "/anything/"]:
        response = alpha_owner_client.get(path)
        assert response.status_code == 403
        assert b"suspended" in response.content


def test_suspension_keeps_the_data_and_reactivation_restores_access(tenant_alpha, operator, alpha_owner_client):
    tenant_suspend(tenant=tenant_alpha, actor=operator)
    tenant_reactivate(tenant=tenant_alpha, actor=operator)

    with schema_context(tenant_alpha.schema_name):
        assert User.objects.filter(email="owner@alpha.test").exists()
    response = alpha_owner_client.get("/")
    assert response.status_code == 200
    assert b"Alpha Co" in response.content


def test_closed_host_shows_the_closed_page_and_keeps_the_schema(tenant_alpha, operator, alpha_owner_client):
    tenant_close(tenant=tenant_alpha, actor=operator)

    response = alpha_owner_client.get("/")
    assert response.status_code == 410
    assert b"closed" in response.content
    with schema_context(tenant_alpha.schema_name):
        assert User.objects.count() == 1


def test_blocking_one_tenant_leaves_the_other_untouched(tenant_alpha, operator, beta_owner_client):
    tenant_suspend(tenant=tenant_alpha, actor=operator)

    assert beta_owner_client.get("/").status_code == 200


@pytest.mark.parametrize(
    ("start", "change"),
    [("suspended", tenant_suspend), ("active", tenant_reactivate), ("closed", tenant_close),
     ("closed", tenant_suspend)],
)
def test_a_status_change_that_makes_no_sense_is_refused(tenant_alpha, operator, start, change):
    Tenant.objects.filter(pk=tenant_alpha.pk).update(status=start)
    tenant_alpha.refresh_from_db()

    with pytest.raises(TenantStatusChangeInvalid):
        change(tenant=tenant_alpha, actor=operator)
    assert not TenantAuditLog.objects.filter(tenant=tenant_alpha).exists()


def test_the_public_tenant_cannot_be_suspended(operator):
    public = Tenant.objects.get(schema_name="public")

    with pytest.raises(TenantStatusChangeInvalid):
        tenant_suspend(tenant=public, actor=operator)


def test_update_records_only_the_fields_that_changed(tenant_alpha, operator):
    tenant_update(tenant=tenant_alpha, actor=operator, name="Alpha Renamed", billing_email="owner@alpha.test")

    entry = TenantAuditLog.objects.get(tenant=tenant_alpha)
    assert entry.action == "update"
    assert entry.before == {"name": "Alpha Co"}
    assert entry.after == {"name": "Alpha Renamed"}


def test_update_of_a_field_ops_may_not_edit_is_refused(tenant_alpha, operator):
    with pytest.raises(ValueError):
        tenant_update(tenant=tenant_alpha, actor=operator, schema_name="elsewhere")
