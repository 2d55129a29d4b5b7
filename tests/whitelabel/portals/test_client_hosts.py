"""Client hosts `<client>.<reseller-domain>`: created when the reseller's domain routes and its wildcard record
checks out (through the real resolver and the local DNS server), for new clients too, and removed with the
domain or the wildcard; the TLS ask endpoint allows exactly them."""

from datetime import timedelta

import pytest

from tenants.models import Domain
from tenants.selectors import custom_domain_count, tenant_for_hostname
from tests.support.clock import NOW
from tests.support.portals import client_make, portal_domain_make, reseller_make, wildcard_publish
from whitelabel import dns
from whitelabel.domains.selectors import tls_certificate_allowed
from whitelabel.domains.services import domain_check, domain_remove
from whitelabel.portals.selectors import client_hosts, client_portal_url, wildcard_record
from whitelabel.portals.services import portal_wildcard_check

HOST = "portal.northwind.example"


@pytest.fixture
def reseller(db):
    return reseller_make("northwind")


@pytest.fixture
def bloom(reseller):
    return client_make(reseller, "bloom")


def routed(hostname: str):
    return tenant_for_hostname(hostname)


def test_the_local_dns_server_answers_a_wildcard_for_any_label_below_it(dns_zone):
    dns_zone.record_set("*.portal.example.com", "CNAME", ["agency.domains.localhost"])
    dns_zone.record_set("portal.example.com", "CNAME", ["agency.domains.localhost"])

    assert dns.cname_target("anything.portal.example.com").values == ("agency.domains.localhost",)
    assert dns.cname_target("portal.example.com").values == ("agency.domains.localhost",)
    assert dns.cname_target("deeper.other.example.com").outcome is dns.Outcome.NXDOMAIN


def test_a_verified_wildcard_gives_each_client_a_host_under_the_resellers_domain(
        dns_zone, reseller, bloom, django_capture_on_commit_callbacks):
    fern = client_make(reseller, "fern")

    domain = portal_domain_make(dns_zone, reseller, HOST, capture=django_capture_on_commit_callbacks)

    assert wildcard_record(domain).ok
    assert routed(f"bloom.{HOST}") == bloom
    assert routed(f"fern.{HOST}") == fern
    assert client_hosts(client=bloom) == [f"bloom.{HOST}"]
    assert client_portal_url(client=bloom, path="/x/").endswith(f"://bloom.{HOST}/x/")


def test_a_clients_host_under_its_resellers_domain_does_not_count_against_its_plans_custom_domains(
        dns_zone, reseller, bloom, django_capture_on_commit_callbacks):
    portal_domain_make(dns_zone, reseller, HOST, capture=django_capture_on_commit_callbacks)

    assert routed(f"bloom.{HOST}") == bloom
    assert custom_domain_count(tenant=bloom) == 0
    assert custom_domain_count(tenant=reseller) == 1


def test_without_the_wildcard_record_no_client_host_is_created(dns_zone, reseller, bloom,
                                                               django_capture_on_commit_callbacks):
    domain = portal_domain_make(dns_zone, reseller, HOST, wildcard=False, capture=django_capture_on_commit_callbacks)

    assert domain.last_check["wildcard"]["ok"] is False
    assert domain.last_check["wildcard"]["result"] == "failed"
    assert routed(f"bloom.{HOST}") is None
    assert client_portal_url(client=bloom) is None


def test_a_wildcard_pointing_elsewhere_is_refused(dns_zone, reseller, bloom, django_capture_on_commit_callbacks):
    domain = portal_domain_make(dns_zone, reseller, HOST, wildcard=False, capture=django_capture_on_commit_callbacks)
    wildcard_publish(dns_zone, domain, target="someone-else.domains.localhost")

    checked = portal_wildcard_check(domain_id=domain.pk, now=NOW)

    assert checked.last_check["wildcard"]["values"] == ["someone-else.domains.localhost"]
    assert routed(f"bloom.{HOST}") is None


def test_the_wildcard_added_later_and_checked_now_creates_the_hosts(dns_zone, reseller, bloom,
                                                                    django_capture_on_commit_callbacks):
    domain = portal_domain_make(dns_zone, reseller, HOST, wildcard=False, capture=django_capture_on_commit_callbacks)
    wildcard_publish(dns_zone, domain)

    portal_wildcard_check(domain_id=domain.pk, now=NOW)

    assert routed(f"bloom.{HOST}") == bloom


def test_a_wildcard_removed_later_removes_the_hosts_at_the_next_check(dns_zone, reseller, bloom,
                                                                      django_capture_on_commit_callbacks):
    domain = portal_domain_make(dns_zone, reseller, HOST, capture=django_capture_on_commit_callbacks)
    dns_zone.name_forget(wildcard_record(domain).name)

    portal_wildcard_check(domain_id=domain.pk, now=NOW)

    assert routed(f"bloom.{HOST}") is None


def test_a_wildcard_check_that_times_out_keeps_the_hosts(dns_zone, reseller, bloom, monkeypatch,
                                                         django_capture_on_commit_callbacks):
    domain = portal_domain_make(dns_zone, reseller, HOST, capture=django_capture_on_commit_callbacks)
    monkeypatch.setattr(dns, "cname_target", lambda name: dns.Lookup(name=name, rtype="CNAME",
                                                                      outcome=dns.Outcome.TIMEOUT))

    checked = portal_wildcard_check(domain_id=domain.pk, now=NOW)

    assert checked.last_check["wildcard"]["result"] == "inconclusive"
    assert routed(f"bloom.{HOST}") == bloom


def test_a_client_created_later_gets_its_host_at_once(dns_zone, reseller, django_capture_on_commit_callbacks):
    portal_domain_make(dns_zone, reseller, HOST, capture=django_capture_on_commit_callbacks)

    late = client_make(reseller, "late-client")

    assert routed(f"late-client.{HOST}") == late


def test_removing_the_resellers_domain_removes_every_client_host_at_once(dns_zone, reseller, bloom,
                                                                         django_capture_on_commit_callbacks):
    domain = portal_domain_make(dns_zone, reseller, HOST, capture=django_capture_on_commit_callbacks)
    client_make(reseller, "fern")

    domain_remove(domain=domain, now=NOW)

    assert routed(f"bloom.{HOST}") is None and routed(f"fern.{HOST}") is None
    assert not Domain.objects.filter(domain__endswith=f".{HOST}").exists()


def test_a_released_resellers_domain_removes_its_client_hosts(dns_zone, reseller, bloom,
                                                              django_capture_on_commit_callbacks):
    domain = portal_domain_make(dns_zone, reseller, HOST, capture=django_capture_on_commit_callbacks)
    dns_zone.name_forget(HOST)
    with django_capture_on_commit_callbacks(execute=True):
        domain_check(domain=domain, now=NOW + timedelta(days=1))
    assert routed(f"bloom.{HOST}") == bloom  # failing still routes, its clients too

    with django_capture_on_commit_callbacks(execute=True):
        released = domain_check(domain=domain, now=NOW + timedelta(days=9))

    assert released.status == "released"
    assert routed(f"bloom.{HOST}") is None


def test_a_client_moved_to_another_agency_loses_its_host_under_the_first(dns_zone, reseller, bloom,
                                                                         django_capture_on_commit_callbacks):
    portal_domain_make(dns_zone, reseller, HOST, capture=django_capture_on_commit_callbacks)
    other = reseller_make("other-agency")

    bloom.parent_agency = other
    bloom.save(update_fields=["parent_agency"])

    assert routed(f"bloom.{HOST}") is None


def test_the_tls_ask_allows_client_hosts_and_nothing_else_under_the_domain(dns_zone, reseller, bloom,
                                                                         django_capture_on_commit_callbacks):
    portal_domain_make(dns_zone, reseller, HOST, capture=django_capture_on_commit_callbacks)

    assert tls_certificate_allowed(f"bloom.{HOST}")
    assert not tls_certificate_allowed(f"nobody.{HOST}")
    assert not tls_certificate_allowed("bloom.portal.another.example")
