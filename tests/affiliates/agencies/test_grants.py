"""The client's owner decides whether its agency may enter its workspace (Settings → Agency access), and with
which role; revoking takes effect at once."""

import pytest
from django_tenants.utils import schema_context

from accounts.models import Role, User
from affiliates.agencies.exceptions import AgencyAccessInvalid
from affiliates.agencies.handoff import shadow_email_for
from affiliates.agencies.services import agency_access_grant, agency_access_revoke
from affiliates.models import AgencyAccessGrant
from tenants.models import TenantAuditLog
from tests.support.agencies import agency_make, client_make, grant_make, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_ws():
    return client_make(agency_make(), "client-one")


def test_the_owner_grants_the_agency_admin_by_default(client_ws):
    page = signed_in(client_ws)
    assert 'value="admin" selected' in page.get("/settings/agency-access/").content.decode()
    response = page.post("/settings/agency-access/", {"role": "admin"})
    assert response.status_code == 302
    grant = AgencyAccessGrant.objects.get(client=client_ws)
    assert (grant.agency_id, grant.role, grant.granted_by) == (client_ws.parent_agency_id, "admin",
                                                               client_ws.owner_email)


def test_owner_is_never_a_role_an_agency_can_be_granted(client_ws):
    with pytest.raises(AgencyAccessInvalid):
        agency_access_grant(client=client_ws, role=Role.OWNER, actor_email="owner@client-one.test")


def test_changing_the_role_ends_the_old_grant_and_starts_a_new_one(client_ws):
    first = grant_make(client_ws, Role.ADMIN)
    second = grant_make(client_ws, Role.MEMBER)
    first.refresh_from_db()
    assert first.revoked_at is not None and second.revoked_at is None and second.role == Role.MEMBER


def test_granting_and_revoking_are_audited_in_both_workspaces(client_ws):
    grant_make(client_ws)
    agency_access_revoke(client=client_ws, actor_email="owner@client-one.test")
    for tenant in (client_ws, client_ws.parent_agency):
        actions = set(TenantAuditLog.objects.filter(tenant=tenant).values_list("action", flat=True))
        assert {"agency_access_granted", "agency_access_revoked"} <= actions


def test_revoking_deactivates_the_agencys_shadow_accounts(client_ws):
    grant_make(client_ws)
    email = shadow_email_for(agency=client_ws.parent_agency, staff_email="staff@agency-one.test")
    with schema_context(client_ws.schema_name):
        User.objects.create_user(email, None, role=Role.ADMIN)
    signed_in(client_ws).post("/settings/agency-access/revoke/")
    with schema_context(client_ws.schema_name):
        assert User.objects.get(email=email).is_active is False
    assert AgencyAccessGrant.objects.get(client=client_ws).revoked_at is not None


def test_revoking_without_a_grant_says_so(client_ws):
    with pytest.raises(AgencyAccessInvalid):
        agency_access_revoke(client=client_ws, actor_email="owner@client-one.test")


def test_only_the_owner_sees_the_agency_access_page(client_ws):
    admin = signed_in(client_ws, email="admin@client-one.test", role=Role.ADMIN)
    assert admin.get("/settings/agency-access/").status_code == 403
    assert admin.post("/settings/agency-access/", {"role": "admin"}).status_code == 403
    assert not AgencyAccessGrant.objects.exists()


def test_a_workspace_without_an_agency_has_no_agency_access_page(tenant_alpha):
    assert signed_in(tenant_alpha).get("/settings/agency-access/").status_code == 404
