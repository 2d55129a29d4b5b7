"""Custom domains across tenants: a claim that does not route yet shows nothing of its tenant to anyone, whatever
they send; a hostname routed to one tenant can neither be claimed by another nor be routed to it."""

import pytest

from tenants.models import Domain
from tenants.services import domain_route_add
from tests.support.api import api_key_for
from tests.support.clock import NOW
from tests.support.dns import dns_zone
from tests.support.tenants import logged_in_client
from tests.whitelabel.domains.conftest import alpha_branded, beta_branded, domains_plan
from tests.whitelabel.domains.routing_support import HOST, claim_active, claim_pending, platform_hosts
from whitelabel.domains.exceptions import HostnameInvalid, HostnameTaken
from whitelabel.domains.services import domain_claim

__all__ = ["alpha_branded", "beta_branded", "dns_zone", "domains_plan", "platform_hosts"]
pytestmark = pytest.mark.usefixtures("platform_hosts")
PAGES = ["/", "/accounts/login/", "/billing/", "/settings/"]


@pytest.mark.parametrize("path", PAGES)
def test_a_pending_domain_shows_nothing_of_its_tenant_even_to_its_signed_in_owner(alpha_branded, path):
    claim_pending(alpha_branded)
    client = logged_in_client(alpha_branded)

    response = client.get(path, HTTP_HOST=HOST)

    assert response.status_code == 404
    assert b"Alpha" not in response.content and b"alpha" not in response.content
    assert not hasattr(response.wsgi_request, "tenant")


def test_a_pending_domain_does_not_serve_the_tenants_api_to_its_own_key(alpha_branded):
    claim_pending(alpha_branded)
    key = api_key_for(alpha_branded)

    response = logged_in_client(alpha_branded).get("/api/v1/wallet", HTTP_HOST=HOST,
                                                   HTTP_AUTHORIZATION=f"Bearer {key}")

    assert response.status_code == 404
    assert b"balance" not in response.content
    assert not hasattr(response.wsgi_request, "tenant")


def test_another_tenants_active_domain_cannot_be_claimed(dns_zone, alpha_branded, beta_branded):
    claim_active(dns_zone, alpha_branded)

    with pytest.raises(HostnameTaken):
        domain_claim(tenant=beta_branded, hostname=HOST.upper(), now=NOW)


def test_another_tenants_fresh_pending_claim_cannot_be_taken_over(alpha_branded, beta_branded):
    claim_pending(alpha_branded)

    with pytest.raises(HostnameTaken):
        domain_claim(tenant=beta_branded, hostname=HOST, now=NOW)


def test_another_tenants_subdomain_cannot_be_claimed_to_route_to_you(beta_branded):
    with pytest.raises(HostnameInvalid):
        domain_claim(tenant=beta_branded, hostname="alpha.localhost", now=NOW)

    assert Domain.objects.get(domain="alpha.localhost").tenant.slug == "alpha"


def test_a_hostname_routed_to_one_tenant_is_never_moved_to_another(dns_zone, alpha_branded, beta_branded):
    claim_active(dns_zone, alpha_branded)

    with pytest.raises(ValueError):
        domain_route_add(tenant=beta_branded, hostname=HOST)

    assert Domain.objects.get(domain=HOST).tenant_id == alpha_branded.pk


def test_another_tenants_session_is_not_signed_in_on_your_custom_domain(dns_zone, alpha_branded, beta_branded):
    claim_active(dns_zone, alpha_branded)

    response = logged_in_client(beta_branded).get("/", HTTP_HOST=HOST)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert response.wsgi_request.tenant.pk == alpha_branded.pk
