"""The Domains page and API across tenants: tenant B neither sees, checks nor removes A's domains, by page or by
API, and A's active domain routes to A only (B's key and session are strangers there)."""

import pytest

from tests.support.api import api_client, api_key_for
from tests.support.dns import dns_zone
from tests.support.tenants import logged_in_client
from tests.whitelabel.domains.conftest import alpha_branded, beta_branded, domains_plan
from tests.whitelabel.domains.routing_support import HOST, claim_active, claim_pending, platform_hosts
from whitelabel.models import CustomDomain

__all__ = ["alpha_branded", "beta_branded", "dns_zone", "domains_plan", "platform_hosts"]
pytestmark = pytest.mark.usefixtures("platform_hosts")
PAGE, API = "/settings/domains/", "/api/v1/domains"


def test_the_page_never_lists_another_tenants_domain(alpha_branded, beta_branded):
    theirs = claim_pending(alpha_branded, "shop.alpha-brand.com")

    page = logged_in_client(beta_branded).get(PAGE).content.decode()

    assert "alpha-brand" not in page and theirs.verification_token not in page


def test_the_page_cannot_check_or_remove_another_tenants_domain(dns_zone, alpha_branded, beta_branded):
    theirs = claim_active(dns_zone, alpha_branded)
    dns_zone.name_forget(HOST)  # a check would make it fail
    beta = logged_in_client(beta_branded)

    answers = [beta.post(f"{PAGE}{theirs.pk}/check/").status_code, beta.get(f"{PAGE}{theirs.pk}/remove/").status_code,
               beta.post(f"{PAGE}{theirs.pk}/remove/").status_code]

    assert answers == [404, 404, 404]
    theirs.refresh_from_db()
    assert (theirs.status, theirs.last_checked_at) == (CustomDomain.Status.ACTIVE, theirs.activated_at)
    assert alpha_branded.domains.filter(domain=HOST).exists()


def test_the_api_cannot_see_check_or_remove_another_tenants_domain(alpha_branded, beta_branded):
    theirs = claim_pending(alpha_branded)
    beta = api_client(beta_branded, api_key_for(beta_branded))

    listed = beta.get(API).json()["data"]
    answers = [beta.get(f"{API}/{theirs.pk}").status_code, beta.post(f"{API}/{theirs.pk}/check").status_code,
               beta.delete(f"{API}/{theirs.pk}").status_code]

    assert listed == [] and answers == [404, 404, 404]
    theirs.refresh_from_db()
    assert (theirs.status, theirs.last_checked_at) == (CustomDomain.Status.PENDING, None)


def test_an_alpha_key_on_alpha_host_cannot_reach_beta_domains(alpha_branded, beta_branded):
    theirs = claim_pending(beta_branded)

    response = api_client(alpha_branded, api_key_for(alpha_branded)).get(f"{API}/{theirs.pk}")

    assert response.status_code == 404


def test_an_active_domain_routes_to_its_own_tenant_only(dns_zone, alpha_branded, beta_branded):
    claim_active(dns_zone, alpha_branded)
    alpha_key, beta_key = api_key_for(alpha_branded), api_key_for(beta_branded)

    own = api_client(alpha_branded, alpha_key).get("/api/v1/tenant", HTTP_HOST=HOST)
    stranger = api_client(beta_branded, beta_key).get("/api/v1/tenant", HTTP_HOST=HOST)
    beta_session = logged_in_client(beta_branded).get(PAGE, HTTP_HOST=HOST)

    assert (own.status_code, own.json()["slug"]) == (200, "alpha")
    assert stranger.status_code == 401
    assert beta_session.status_code == 302 and "/accounts/login/" in beta_session["Location"]
