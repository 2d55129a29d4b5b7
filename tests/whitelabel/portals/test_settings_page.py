"""The Reseller portal settings page (/settings/portal/) in an agency's workspace: the wildcard record and its
state with "Check now", the portal's addresses, the landing text; agencies with white-label only."""

import pytest

from billing.services import tenant_plan_assign
from tests.support.agencies import agency_make, signed_in
from tests.support.factories import PlanFactory
from tests.support.portals import client_make, portal_domain_make, reseller_make, wildcard_publish
from whitelabel.models import Brand

HOST = "portal.northwind.example"
PAGE = "/settings/portal/"


@pytest.fixture
def reseller(db):
    return reseller_make("northwind")


def test_the_page_shows_the_wildcard_record_to_add_and_that_it_is_not_found(
        dns_zone, reseller, django_capture_on_commit_callbacks):
    portal_domain_make(dns_zone, reseller, HOST, wildcard=False, capture=django_capture_on_commit_callbacks)

    page = signed_in(reseller).get(PAGE).content.decode()

    assert f"*.{HOST}" in page and "northwind.domains.localhost" in page
    assert "Not found" in page
    assert f"://{HOST}/signup/" in page


def test_check_now_verifies_the_wildcard_and_the_clients_get_their_addresses(
        dns_zone, reseller, django_capture_on_commit_callbacks):
    domain = portal_domain_make(dns_zone, reseller, HOST, wildcard=False, capture=django_capture_on_commit_callbacks)
    client_make(reseller, "bloom")
    wildcard_publish(dns_zone, domain)
    staff = signed_in(reseller)

    response = staff.post(f"/settings/portal/domains/{domain.pk}/check/", follow=True)

    page = response.content.decode()
    assert "Verified" in page and f"bloom.{HOST}" in page


def test_the_landing_text_is_saved_on_the_agencys_brand(reseller):
    response = signed_in(reseller).post(PAGE, {"landing_title": "Grow with us", "landing_text": "Hello."})

    assert response.status_code == 302
    brand = Brand.objects.get(tenant=reseller)
    assert (brand.landing_title, brand.landing_text) == ("Grow with us", "Hello.")


def test_an_agency_not_in_reseller_mode_is_told_its_pages_wait_for_it(db):
    agency = reseller_make("referral-agency", reseller=False)

    assert 'data-testid="portal-not-reseller"' in signed_in(agency).get(PAGE).content.decode()


def test_an_agency_without_white_label_gets_the_upgrade_message(db):
    agency = agency_make("plain-agency")

    assert signed_in(agency).get(PAGE).status_code == 402


def test_a_business_workspace_has_no_portal_page(alpha_owner_client):
    assert alpha_owner_client.get(PAGE).status_code == 404


def test_members_are_refused(reseller):
    assert signed_in(reseller, email="member@northwind.test", role="member").get(PAGE).status_code == 403


def test_the_sidebar_links_the_page_for_a_white_label_agency_only(reseller):
    assert f'href="{PAGE}"' in signed_in(reseller).get("/").content.decode()
    tenant_plan_assign(tenant=reseller, plan=PlanFactory(client_tenants=True))
    assert f'href="{PAGE}"' not in signed_in(reseller).get("/").content.decode()
