"""domain_check through the real resolver and the local DNS server: every outcome, and the state it leads to."""

from datetime import timedelta

import pytest

from tests.support.clock import NOW
from whitelabel.domains.exceptions import CustomDomainNotHeld
from whitelabel.domains.selectors import domain_records
from whitelabel.domains.services import domain_check, domain_claim, domain_remove
from whitelabel.models import CustomDomain

Status = CustomDomain.Status
HOST = "portal.example.com"


@pytest.fixture(autouse=True)
def platform_hosts(settings):
    settings.BASE_DOMAIN = "localhost"
    settings.CUSTOM_DOMAIN_TARGET = "domains.localhost"
    settings.CUSTOM_DOMAIN_APEX_ADDRESSES = ["192.0.2.10", "192.0.2.11"]
    settings.CUSTOM_DOMAIN_ON_DEMAND_TLS = True


@pytest.fixture
def claim(alpha_branded):
    return domain_claim(tenant=alpha_branded, hostname=HOST, now=NOW)


def records_publish(zone, domain, *, token=None, cname=None):
    records = domain_records(domain)
    zone.record_set(records.challenge_name, "TXT", [token or records.challenge_value])
    zone.record_set(domain.hostname, "CNAME", [cname or records.cname_target])


def test_the_right_records_verify_and_activate_a_pending_claim(dns_zone, claim):
    records_publish(dns_zone, claim)

    checked = domain_check(domain=claim, now=NOW)

    assert (checked.status, checked.verified_at, checked.activated_at) == (Status.ACTIVE, NOW, NOW)
    assert checked.last_check["result"] == "passed"
    assert checked.last_check["cname"]["values"] == ["alpha.domains.localhost"]
    assert checked.last_check["challenge"]["ok"] is True


def test_without_on_demand_tls_a_verified_claim_waits_for_its_certificate(dns_zone, claim, settings):
    settings.CUSTOM_DOMAIN_ON_DEMAND_TLS = False
    records_publish(dns_zone, claim)

    checked = domain_check(domain=claim, now=NOW)

    assert (checked.status, checked.verified_at, checked.activated_at) == (Status.VERIFIED, NOW, None)


def test_a_wrong_token_leaves_the_claim_pending(dns_zone, claim):
    records_publish(dns_zone, claim, token="someone-elses-token")

    checked = domain_check(domain=claim, now=NOW)

    assert checked.status == Status.PENDING
    assert checked.last_check["reasons"] == ["challenge_mismatch"]
    assert checked.last_check["challenge"]["values"] == ["someone-elses-token"]


def test_the_previous_claims_token_does_not_verify_a_takeover(dns_zone, alpha_branded, beta_branded):
    stale = domain_claim(tenant=alpha_branded, hostname=HOST, now=NOW)
    records_publish(dns_zone, stale, cname="beta.domains.localhost")
    taken = domain_claim(tenant=beta_branded, hostname=HOST, now=NOW + timedelta(days=7))

    checked = domain_check(domain=taken, now=NOW + timedelta(days=7))

    assert (checked.status, checked.last_check["reasons"]) == (Status.PENDING, ["challenge_mismatch"])


def test_a_missing_cname_leaves_the_claim_pending(dns_zone, claim):
    dns_zone.record_set(domain_records(claim).challenge_name, "TXT", [claim.verification_token])

    checked = domain_check(domain=claim, now=NOW)

    assert checked.status == Status.PENDING
    assert checked.last_check["reasons"] == ["not_pointed"]
    assert checked.last_check["addresses"]["outcome"] == "no_answer"


def test_a_cname_to_elsewhere_leaves_the_claim_pending(dns_zone, claim):
    records_publish(dns_zone, claim, cname="beta.domains.localhost")

    checked = domain_check(domain=claim, now=NOW)

    assert checked.status == Status.PENDING
    assert checked.last_check["reasons"] == ["cname_elsewhere"]


def test_a_hostname_that_does_not_exist_leaves_the_claim_pending(dns_zone, claim):
    checked = domain_check(domain=claim, now=NOW)

    assert checked.status == Status.PENDING
    assert checked.last_check["reasons"] == ["challenge_missing", "not_pointed"]
    assert checked.last_check["challenge"]["outcome"] == "nxdomain"


def test_a_timeout_is_inconclusive_and_says_so(dns_zone, claim):
    dns_zone.slow_add(domain_records(claim).challenge_name)
    dns_zone.record_set(HOST, "CNAME", [domain_records(claim).cname_target])

    checked = domain_check(domain=claim, now=NOW)

    assert checked.status == Status.PENDING
    assert checked.last_check["result"] == "inconclusive"
    assert checked.last_check["reasons"] == ["txt_timeout"]


def test_an_apex_with_the_platforms_addresses_is_verified(dns_zone, alpha_branded):
    apex = domain_claim(tenant=alpha_branded, hostname="example.org", now=NOW)
    dns_zone.record_set(domain_records(apex).challenge_name, "TXT", [apex.verification_token])
    dns_zone.record_set("example.org", "A", ["192.0.2.11", "192.0.2.10"])

    assert domain_check(domain=apex, now=NOW).status == Status.ACTIVE


def test_an_apex_with_other_addresses_stays_pending(dns_zone, alpha_branded):
    apex = domain_claim(tenant=alpha_branded, hostname="example.org", now=NOW)
    dns_zone.record_set(domain_records(apex).challenge_name, "TXT", [apex.verification_token])
    dns_zone.record_set("example.org", "A", ["192.0.2.10", "198.51.100.1"])

    checked = domain_check(domain=apex, now=NOW)

    assert (checked.status, checked.last_check["reasons"]) == (Status.PENDING, ["addresses_elsewhere"])


def test_an_active_domain_whose_cname_moves_away_is_failing(dns_zone, claim):
    records_publish(dns_zone, claim)
    domain_check(domain=claim, now=NOW)
    dns_zone.record_set(HOST, "CNAME", ["cname.vercel-dns.com"])

    checked = domain_check(domain=claim, now=NOW + timedelta(days=1))

    assert (checked.status, checked.failing_since) == (Status.FAILING, NOW + timedelta(days=1))


def test_a_timeout_does_not_put_an_active_domain_in_failing(dns_zone, claim):
    records_publish(dns_zone, claim)
    domain_check(domain=claim, now=NOW)
    dns_zone.slow_add(HOST)

    assert domain_check(domain=claim, now=NOW + timedelta(days=1)).status == Status.ACTIVE


def test_a_failing_domain_fixed_is_active_again(dns_zone, claim):
    records_publish(dns_zone, claim)
    domain_check(domain=claim, now=NOW)
    dns_zone.name_forget(HOST)
    domain_check(domain=claim, now=NOW + timedelta(days=1))
    records_publish(dns_zone, claim)

    checked = domain_check(domain=claim, now=NOW + timedelta(days=3))

    assert (checked.status, checked.failing_since, checked.activated_at) == (Status.ACTIVE, None, NOW)


def test_a_domain_failing_for_seven_days_is_released(dns_zone, claim):
    records_publish(dns_zone, claim)
    domain_check(domain=claim, now=NOW)
    dns_zone.name_forget(HOST)
    domain_check(domain=claim, now=NOW + timedelta(days=1))
    assert domain_check(domain=claim, now=NOW + timedelta(days=7, hours=23)).status == Status.FAILING

    released = domain_check(domain=claim, now=NOW + timedelta(days=8))

    assert (released.status, released.ended_at) == (Status.RELEASED, NOW + timedelta(days=8))


def test_a_removed_domain_cannot_be_checked(dns_zone, claim):
    domain_remove(domain=claim, now=NOW)

    with pytest.raises(CustomDomainNotHeld):
        domain_check(domain=claim, now=NOW)


def test_a_domain_removed_while_its_records_are_looked_up_is_not_revived(dns_zone, claim):
    records_publish(dns_zone, claim)
    stale_copy = CustomDomain.objects.get(pk=claim.pk)
    domain_remove(domain=claim, now=NOW)

    with pytest.raises(CustomDomainNotHeld):
        domain_check(domain=stale_copy, now=NOW)
    assert CustomDomain.objects.get(pk=claim.pk).status == Status.REMOVED
