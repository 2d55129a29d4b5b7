import pytest
from django_tenants.utils import schema_context, schema_exists

from accounts.models import User
from tenants.models import Tenant, TenantAuditLog
from tests.support.factories import OpsUserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/tenants/tenant/"


@pytest.fixture
def operator(db):
    return OpsUserFactory()


@pytest.fixture
def admin_client(public_client, operator):
    public_client.force_login(operator)
    return public_client


@pytest.mark.parametrize("query", ["Alpha", "alpha", "alpha.localhost", "owner@alpha.test"])
def test_changelist_finds_a_tenant_by_name_slug_domain_or_owner_email(admin_client, tenant_alpha, query):
    response = admin_client.get(CHANGELIST, {"q": query})

    assert response.status_code == 200
    assert b"Alpha Co" in response.content
    assert b"Beta Inc" not in response.content


def test_changelist_filters_by_status(admin_client, tenant_alpha, tenant_beta):
    Tenant.objects.filter(pk=tenant_beta.pk).update(status="suspended")

    response = admin_client.get(CHANGELIST, {"status__exact": "suspended"})

    assert b"Beta Inc" in response.content
    assert b"Alpha Co" not in response.content


def test_changelist_shows_type_status_and_primary_domain(admin_client, tenant_alpha):
    response = admin_client.get(CHANGELIST)

    assert b"alpha.localhost" in response.content
    assert b"Business" in response.content and b"Active" in response.content


def test_suspend_action_asks_for_confirmation_first(admin_client, tenant_alpha):
    response = admin_client.post(CHANGELIST, {"action": "suspend_tenants", "_selected_action": [tenant_alpha.pk]})

    assert response.status_code == 200
    assert b"Yes, suspend" in response.content
    tenant_alpha.refresh_from_db()
    assert tenant_alpha.status == "active"


def test_confirmed_suspend_action_suspends_and_audits(admin_client, operator, tenant_alpha):
    response = admin_client.post(CHANGELIST, {
        "action": "suspend_tenants", "_selected_action": [tenant_alpha.pk], "confirm": "yes", "reason": "fraud",
    })

    assert response.status_code == 302
    tenant_alpha.refresh_from_db()
    assert tenant_alpha.status == "suspended"
    entry = TenantAuditLog.objects.get(tenant=tenant_alpha)
    assert (entry.action, entry.actor, entry.after["reason"]) == ("suspend", operator, "fraud")


def test_confirmed_close_then_reactivate_actions_are_both_audited(admin_client, tenant_alpha):
    for action in ["close_tenants", "reactivate_tenants"]:
        admin_client.post(CHANGELIST, {"action": action, "_selected_action": [tenant_alpha.pk], "confirm": "yes"})

    tenant_alpha.refresh_from_db()
    assert tenant_alpha.status == "active"
    assert list(TenantAuditLog.objects.filter(tenant=tenant_alpha).values_list("action", flat=True)) == [
        "reactivate", "close"]


def test_editing_a_tenant_in_admin_goes_through_the_audited_service(admin_client, tenant_alpha):
    response = admin_client.post(f"{CHANGELIST}{tenant_alpha.pk}/change/", {
        "name": "Alpha Holdings", "type": "business", "parent_agency": "", "billing_email": "billing@alpha.test",
        **_empty_inline_management_forms(),
    })

    assert response.status_code == 302
    entry = TenantAuditLog.objects.get(tenant=tenant_alpha)
    assert entry.action == "update"
    assert entry.after == {"name": "Alpha Holdings", "billing_email": "billing@alpha.test"}


def test_adding_a_tenant_in_admin_provisions_it(admin_client):
    response = admin_client.post(f"{CHANGELIST}add/", {
        "name": "Client One", "slug": "client-one", "type": "individual", "parent_agency": "",
        "owner_email": "boss@client-one.test", "billing_email": "",
    })

    assert response.status_code == 302
    tenant = Tenant.objects.get(slug="client-one")
    assert schema_exists("client_one")
    with schema_context("client_one"):
        owner = User.objects.get()
        assert owner.email == "boss@client-one.test" and not owner.has_usable_password()


def test_adding_a_tenant_with_a_taken_slug_shows_the_field_error(admin_client, tenant_alpha):
    response = admin_client.post(f"{CHANGELIST}add/", {
        "name": "Copy", "slug": "alpha", "type": "business", "parent_agency": "", "owner_email": "x@y.test",
    })

    assert response.status_code == 200
    assert b"already taken" in response.content


def test_audit_log_is_searchable_and_read_only(admin_client, operator, tenant_alpha):
    from tenants.services import tenant_suspend

    tenant_suspend(tenant=tenant_alpha, actor=operator)

    listing = admin_client.get("/admin/tenants/tenantauditlog/", {"q": "alpha"})
    assert listing.status_code == 200 and b"suspend" in listing.content
    assert admin_client.get("/admin/tenants/tenantauditlog/add/").status_code == 403


def test_tenants_cannot_be_deleted_from_admin(admin_client, tenant_alpha):
    response = admin_client.get(f"{CHANGELIST}{tenant_alpha.pk}/delete/")

    assert response.status_code == 403


def _empty_inline_management_forms() -> dict:
    fields = {}
    for prefix in ["domains", "audit_log"]:
        fields.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0",
                       f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})
    return fields
