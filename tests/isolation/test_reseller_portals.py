"""Reseller portals across tenants: a client of reseller A never routes under reseller B's domain, clients of one
reseller see only their own workspace, a signup on A's domain only ever creates a client of A, and one agency
cannot read or check another's portal settings."""

import pytest
from django.test import Client

from tenants.models import Tenant
from tenants.selectors import tenant_for_hostname
from tests.support.agencies import signed_in
from tests.support.dns import dns_zone
from tests.support.portals import client_make, portal_domain_make, reseller_make
from whitelabel.domains.selectors import tls_certificate_allowed

__all__ = ["dns_zone"]

A_HOST = "portal.a.example"
B_HOST = "portal.b.example"
PASSWORD = "Quiet-harbour-lantern-71"


@pytest.fixture(autouse=True)
def platform_hosts(settings, tmp_path):
    settings.BASE_DOMAIN = "localhost"
    settings.CUSTOM_DOMAIN_TARGET = "domains.localhost"
    settings.CUSTOM_DOMAIN_ON_DEMAND_TLS = True
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def resellers(db, dns_zone, django_capture_on_commit_callbacks):
    a, b = reseller_make("reseller-a"), reseller_make("reseller-b")
    a_domain = portal_domain_make(dns_zone, a, A_HOST, capture=django_capture_on_commit_callbacks)
    b_domain = portal_domain_make(dns_zone, b, B_HOST, capture=django_capture_on_commit_callbacks)
    return a, b, a_domain, b_domain


def test_a_client_of_reseller_a_does_not_route_under_reseller_bs_domain(resellers):
    a, _b, _a_domain, _b_domain = resellers
    bloom = client_make(a, "bloom")

    response = Client(HTTP_HOST=f"bloom.{B_HOST}").get("/accounts/login/")

    assert tenant_for_hostname(f"bloom.{A_HOST}") == bloom
    assert tenant_for_hostname(f"bloom.{B_HOST}") is None
    assert response.status_code == 404 and b"Bloom" not in response.content
    assert not tls_certificate_allowed(f"bloom.{B_HOST}")


def test_a_client_of_one_reseller_is_not_signed_in_on_another_clients_host(resellers):
    a, _b, _a_domain, _b_domain = resellers
    bloom, fern = client_make(a, "bloom"), client_make(a, "fern")
    bloom_owner = signed_in(bloom)

    on_own = bloom_owner.get("/", HTTP_HOST=f"bloom.{A_HOST}")
    on_other = bloom_owner.get("/", HTTP_HOST=f"fern.{A_HOST}")

    assert on_own.status_code == 200 and on_own.wsgi_request.tenant == bloom
    assert on_other.status_code == 302 and "/accounts/login/" in on_other["Location"]
    assert on_other.wsgi_request.tenant == fern


def test_a_signup_on_as_domain_creates_a_client_of_a_only(resellers):
    a, b, _a_domain, _b_domain = resellers

    Client(HTTP_HOST=A_HOST).post("/signup/", {"name": "Bloom", "slug": "bloom", "email": "owner@bloom.test",
                                               "password": PASSWORD, "parent_agency": b.pk, "agency": b.slug})

    bloom = Tenant.objects.get(slug="bloom")
    assert bloom.parent_agency == a
    assert tenant_for_hostname(f"bloom.{B_HOST}") is None


def test_a_signup_on_as_domain_cannot_take_a_client_of_b(resellers):
    _a, b, _a_domain, _b_domain = resellers
    client_make(b, "bloom")

    response = Client(HTTP_HOST=A_HOST).post("/signup/", {"name": "Bloom", "slug": "bloom",
                                                          "email": "owner@bloom.test", "password": PASSWORD})

    assert response.status_code == 400
    assert Tenant.objects.get(slug="bloom").parent_agency == b


def test_an_agency_cannot_check_another_agencys_domain(resellers):
    a, b, a_domain, _b_domain = resellers

    response = signed_in(b).post(f"/settings/portal/domains/{a_domain.pk}/check/")

    assert response.status_code == 404


def test_an_agencys_portal_settings_show_only_its_own_domains_and_clients(resellers):
    a, b, _a_domain, _b_domain = resellers
    client_make(a, "bloom")
    client_make(b, "other-client")

    page = signed_in(a).get("/settings/portal/").content.decode()

    assert A_HOST in page and f"bloom.{A_HOST}" in page
    assert B_HOST not in page and "Other Client" not in page


def test_a_client_host_serves_nothing_of_the_agency(resellers):
    a, _b, _a_domain, _b_domain = resellers
    client_make(a, "bloom")

    response = Client(HTTP_HOST=f"bloom.{A_HOST}").get("/signup/")

    assert response.status_code == 404
