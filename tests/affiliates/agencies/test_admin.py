"""Ops' admin of agencies: the earnings mode per agency with its clients, and revoking a grant through the
service (which signs agency staff out at once)."""

import pytest

from affiliates.models import AgencyAccessGrant, AgencyProfile
from tenants.models import TenantAuditLog
from tests.support.agencies import agency_make, client_make, grant_make
from tests.support.factories import OpsUserFactory
from tests.support.tenants import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_client():
    client = client_for(None)
    client.force_login(OpsUserFactory(email="ops-person@tollgate.test"))
    return client


def test_ops_see_an_agencys_clients_and_whether_each_gave_access(ops_client):
    agency = agency_make()
    grant_make(client_make(agency, "client-one"))
    client_make(agency, "client-two")
    profile = AgencyProfile.objects.get(agency=agency)
    page = ops_client.get(f"/admin/affiliates/agencyprofile/{profile.pk}/change/").content.decode()
    assert "Client One (client-one): Active, access granted" in page
    assert "Client Two (client-two): Active, no access" in page


def test_ops_switch_an_agency_to_reseller_mode(ops_client):
    agency = agency_make()
    client_make(agency, "client-one")
    profile = AgencyProfile.objects.get(agency=agency)
    ops_client.post(f"/admin/affiliates/agencyprofile/{profile.pk}/change/", {
        "earnings_mode": "reseller", "commission_rate": "10", "wholesale_discount_percent": "25"})
    profile.refresh_from_db()
    assert (profile.earnings_mode, profile.wholesale_discount_percent) == ("reseller", 25)


def test_ops_revoke_a_grant_through_the_service(ops_client):
    client = client_make(agency_make(), "client-one")
    grant = grant_make(client)
    ops_client.post("/admin/affiliates/agencyaccessgrant/", {"action": "revoke", "_selected_action": [grant.pk]})
    grant.refresh_from_db()
    assert grant.revoked_by == "ops-person@tollgate.test" and grant.revoked_at is not None
    assert TenantAuditLog.objects.filter(tenant=client, action="agency_access_revoked").exists()
    assert not AgencyAccessGrant.objects.filter(revoked_at__isnull=True).exists()
