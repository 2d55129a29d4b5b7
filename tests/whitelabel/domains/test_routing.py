"""Custom domains through tenant routing: an active (or failing) claim serves its tenant through the cached host
lookup; a pending or verified one gets the neutral "not ready" page; released or removed, the plain 404 at once.
Cookies on a custom domain are host-only."""

import pytest
from django.test import Client

from tests.support.clock import NOW
from tests.support.tenants import STANDARD_PASSWORD, logged_in_client
from tests.whitelabel.domains.routing_support import (
    HOST,
    claim_active,
    claim_failing,
    claim_pending,
    claim_released,
    platform_hosts,
    records_publish,
)
from whitelabel.domains.services import domain_check, domain_remove
from whitelabel.models import CustomDomain

__all__ = ["platform_hosts"]
pytestmark = pytest.mark.usefixtures("platform_hosts")


def owner_on(tenant, host: str = HOST) -> Client:
    """The tenant's owner, signed in, sending requests to `host`."""
    client = logged_in_client(tenant)
    client.defaults["HTTP_HOST"] = host
    return client


def test_an_active_custom_domain_serves_its_tenants_workspace(dns_zone, alpha_branded):
    claim_active(dns_zone, alpha_branded)

    response = owner_on(alpha_branded).get("/")

    assert response.status_code == 200
    assert b"Alpha Co" in response.content
    assert response.wsgi_request.tenant.pk == alpha_branded.pk


def test_a_failing_custom_domain_still_routes_while_it_is_rechecked(dns_zone, alpha_branded):
    claim_failing(dns_zone, alpha_branded)

    response = owner_on(alpha_branded).get("/")

    assert response.status_code == 200
    assert b"Alpha Co" in response.content


def test_a_pending_custom_domain_gets_the_not_ready_page_without_the_tenants_content(alpha_branded):
    claim_pending(alpha_branded)

    response = owner_on(alpha_branded).get("/")

    assert response.status_code == 404
    assert b"not ready yet" in response.content
    assert b"Alpha" not in response.content and b"alpha" not in response.content


def test_a_verified_domain_awaiting_its_certificate_gets_the_not_ready_page(dns_zone, alpha_branded, settings):
    settings.CUSTOM_DOMAIN_ON_DEMAND_TLS = False
    domain = claim_pending(alpha_branded)
    records_publish(dns_zone, domain)
    assert domain_check(domain=domain, now=NOW).status == CustomDomain.Status.VERIFIED

    response = owner_on(alpha_branded).get("/")

    assert response.status_code == 404
    assert b"not ready yet" in response.content
    assert b"Alpha" not in response.content


def test_a_released_custom_domain_is_an_unknown_host(dns_zone, alpha_branded):
    claim_released(dns_zone, alpha_branded)

    response = owner_on(alpha_branded).get("/")

    assert response.status_code == 404
    assert b"no workspace at this address" in response.content
    assert b"Alpha" not in response.content


def test_removing_a_domain_stops_routing_on_the_very_next_request(dns_zone, alpha_branded):
    domain = claim_active(dns_zone, alpha_branded)
    client = owner_on(alpha_branded)
    assert client.get("/").status_code == 200  # the route is now in the lookup cache

    domain_remove(domain=domain, now=NOW)
    response = client.get("/")

    assert response.status_code == 404
    assert b"Alpha" not in response.content


def test_a_domain_restored_after_failing_routes_again(dns_zone, alpha_branded):
    domain = claim_failing(dns_zone, alpha_branded)
    records_publish(dns_zone, domain)

    restored = domain_check(domain=domain, now=NOW)

    assert restored.status == CustomDomain.Status.ACTIVE
    assert owner_on(alpha_branded).get("/").status_code == 200


def test_a_login_on_a_custom_domain_sets_host_only_cookies(dns_zone, alpha_branded):
    claim_active(dns_zone, alpha_branded)
    client = Client(HTTP_HOST=HOST)

    page = client.get("/accounts/login/")
    login = client.post("/accounts/login/", {"login": "owner@alpha.test", "password": STANDARD_PASSWORD})

    assert page.status_code == 200 and login.status_code == 302
    cookies = {**page.cookies, **login.cookies}
    assert {"csrftoken", "sessionid"} <= set(cookies)
    for name in ("csrftoken", "sessionid"):
        assert cookies[name]["domain"] == ""
        assert "Domain=" not in cookies[name].output()


def test_a_www_custom_domain_routes_by_its_full_name(dns_zone, alpha_branded):
    claim_active(dns_zone, alpha_branded, "www.example.com")

    response = owner_on(alpha_branded, "www.example.com").get("/")

    assert response.status_code == 200
    assert response.wsgi_request.tenant.pk == alpha_branded.pk


def test_www_before_a_routed_host_still_serves_that_host(dns_zone, alpha_branded):
    claim_active(dns_zone, alpha_branded)

    assert owner_on(alpha_branded, f"www.{HOST}").get("/").status_code == 200
    assert owner_on(alpha_branded, "www.alpha.localhost").get("/").status_code == 200
