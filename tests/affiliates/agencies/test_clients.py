"""Creating client workspaces: provisioned with the agency as parent, the owner invited, the referral bound to
the agency, audited on both sides; refused to non-agencies and without the client_tenants entitlement."""

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from accounts.models import Invitation, Role, User
from affiliates.agencies.exceptions import ClientTenantsNotInPlan, NotAnAgency
from affiliates.agencies.services import client_workspace_create
from affiliates.models import Affiliate, AgencyProfile, Referral
from tenants.exceptions import SlugTaken
from tenants.models import TenantAuditLog
from tests.support.agencies import agency_make, client_make, signed_in

pytestmark = pytest.mark.django_db


def test_a_client_workspace_has_the_agency_as_parent(django_capture_on_commit_callbacks):
    agency = agency_make()
    with django_capture_on_commit_callbacks(execute=True):
        client = client_make(agency, "client-one")
    assert client.parent_agency_id == agency.pk
    assert client.type == "business"


def test_the_clients_owner_is_invited_by_email_and_cannot_sign_in_before_accepting(
        django_capture_on_commit_callbacks):
    agency = agency_make()
    with django_capture_on_commit_callbacks(execute=True):
        client = client_make(agency, "client-one")
    assert mail.outbox[-1].to == ["owner@client-one.test"]
    assert "/invitations/" in mail.outbox[-1].body
    with schema_context(client.schema_name):
        owner = User.objects.get(email="owner@client-one.test")
        assert (owner.is_active, owner.has_usable_password()) == (False, False)
        assert Invitation.objects.get().role == Role.OWNER


def test_the_client_is_referred_by_the_agencys_own_affiliate_account():
    agency = agency_make()
    client = client_make(agency, "client-one")
    referral = Referral.objects.get(tenant=client)
    assert referral.source == Referral.Source.AGENCY
    assert (referral.affiliate.kind, referral.affiliate.tenant_id) == (Affiliate.Kind.AGENCY, agency.pk)
    assert AgencyProfile.objects.get(agency=agency).earnings_mode == AgencyProfile.EarningsMode.REFERRAL


def test_a_second_client_reuses_the_agencys_affiliate_account():
    agency = agency_make()
    first, second = client_make(agency, "client-one"), client_make(agency, "client-two")
    assert Referral.objects.get(tenant=first).affiliate_id == Referral.objects.get(tenant=second).affiliate_id
    assert Affiliate.objects.filter(tenant=agency).count() == 1


def test_creating_a_client_is_audited_in_both_workspaces():
    agency = agency_make()
    client = client_make(agency, "client-one")
    agency_entry = TenantAuditLog.objects.get(tenant=agency, action="agency_client_created")
    client_entry = TenantAuditLog.objects.get(tenant=client, action="agency_client_created")
    assert agency_entry.after["client"] == client_entry.after["client"] == "client-one"
    assert client_entry.source == TenantAuditLog.Source.AGENCY


def test_creating_the_same_client_again_returns_it_without_a_second_invitation(django_capture_on_commit_callbacks):
    agency = agency_make()
    with django_capture_on_commit_callbacks(execute=True):
        client_make(agency, "client-one")
        again = client_workspace_create(agency=agency, name="Client One", slug="client-one",
                                        owner_email="owner@client-one.test", actor_email="x@agency.test")
    assert again.created is False
    assert len(mail.outbox) == 1


def test_an_agency_cannot_take_over_another_agencys_client_by_replaying_its_slug_and_owner():
    first, second = agency_make("agency-one"), agency_make("agency-two")
    client_make(first, "client-one")
    with pytest.raises(SlugTaken):
        client_workspace_create(agency=second, name="Mine now", slug="client-one",
                                owner_email="owner@client-one.test", actor_email="x@agency-two.test")


def test_an_agency_cannot_adopt_an_existing_business_tenant(tenant_alpha):
    agency = agency_make()
    with pytest.raises(SlugTaken):
        client_workspace_create(agency=agency, name="Alpha", slug="alpha", owner_email=tenant_alpha.owner_email,
                                actor_email="x@agency.test")
    tenant_alpha.refresh_from_db()
    assert tenant_alpha.parent_agency_id is None


def test_an_agency_without_the_client_tenants_entitlement_is_refused():
    agency = agency_make(plan_code=None)
    with pytest.raises(ClientTenantsNotInPlan):
        client_make(agency, "client-one")


def test_a_business_tenant_cannot_create_clients(tenant_alpha):
    with pytest.raises(NotAnAgency):
        client_make(tenant_alpha, "client-one")


def test_the_clients_page_creates_a_client(django_capture_on_commit_callbacks):
    agency = agency_make()
    page = signed_in(agency)
    with django_capture_on_commit_callbacks(execute=True):
        response = page.post("/clients/", {"name": "Page Client", "slug": "page-client",
                                           "owner_email": "boss@page-client.test"})
    assert response.status_code == 302
    assert agency.client_tenants.get().slug == "page-client"


def test_the_clients_page_says_why_without_the_entitlement():
    agency = agency_make(plan_code=None)
    response = signed_in(agency).post("/clients/", {"name": "Page Client", "slug": "page-client",
                                                    "owner_email": "boss@page-client.test"})
    assert response.status_code == 400
    assert "Agency plan" in response.content.decode()


def test_the_clients_page_is_not_found_on_a_business_workspace(tenant_alpha):
    assert signed_in(tenant_alpha).get("/clients/").status_code == 404


def test_a_member_of_the_agency_cannot_create_clients():
    agency = agency_make()
    member = signed_in(agency, email="member@agency-one.test", role=Role.MEMBER)
    assert member.get("/clients/").status_code == 403


def test_the_agency_resends_the_owners_invitation_and_the_old_link_stops_working(
        django_capture_on_commit_callbacks):
    agency = agency_make()
    with django_capture_on_commit_callbacks(execute=True):
        client = client_make(agency, "client-one")
        signed_in(agency).post("/clients/client-one/invitation/")
    assert len(mail.outbox) == 2
    with schema_context(client.schema_name):
        assert Invitation.objects.filter(revoked_at__isnull=True).count() == 1
        assert Invitation.objects.count() == 2


def test_the_owners_invitation_is_not_resent_once_they_joined(django_capture_on_commit_callbacks):
    agency = agency_make()
    client = client_make(agency, "client-one")
    with schema_context(client.schema_name):
        owner = User.objects.get(email="owner@client-one.test")
        owner.set_password("pw-their-own-123")
        owner.is_active = True
        owner.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(agency).post("/clients/client-one/invitation/", follow=True)
    assert "already joined" in response.content.decode()
    assert mail.outbox == []
