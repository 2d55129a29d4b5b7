"""domain_claim: hostnames normalised, ours refused, the plan's limit, one holder at a time, the 7-day takeover."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from billing.services import tenant_plan_assign
from tests.support.clock import NOW
from tests.support.factories import PlanFactory
from whitelabel.domains.exceptions import CustomDomainLimitReached, HostnameInvalid, HostnameTaken
from whitelabel.domains.services import domain_claim, domain_remove
from whitelabel.models import CustomDomain


def test_a_claim_is_pending_with_a_token_of_its_own(alpha_branded):
    first = domain_claim(tenant=alpha_branded, hostname="portal.example.com", now=NOW)
    second = domain_claim(tenant=alpha_branded, hostname="app.example.com", now=NOW)

    assert first.status == CustomDomain.Status.PENDING
    assert first.claimed_at == NOW
    assert len(first.verification_token) == 40
    assert first.verification_token != second.verification_token


@pytest.mark.parametrize(("given", "stored"), [
    ("Portal.Example.COM.", "portal.example.com"),
    ("  portal.example.com  ", "portal.example.com"),
    ("bücher.example.de", "xn--bcher-kva.example.de"),
])
def test_a_hostname_is_stored_lower_case_in_its_idna_form(alpha_branded, given, stored):
    assert domain_claim(tenant=alpha_branded, hostname=given, now=NOW).hostname == stored


@pytest.mark.parametrize("hostname", [
    "", "localhost", "example", "192.0.2.1", "*.example.com", "under_score.example.com", "-dash.example.com",
    f"{'a' * 64}.example.com", "two..dots.example.com", "[2001:db8::1]", "portal.example.com/path",
])
def test_an_invalid_hostname_is_refused(alpha_branded, hostname):
    with pytest.raises(HostnameInvalid):
        domain_claim(tenant=alpha_branded, hostname=hostname, now=NOW)


@pytest.mark.parametrize("hostname", ["alpha.localhost", "deep.beta.localhost", "domains.localhost",
                                      "alpha.domains.localhost"])
def test_the_platforms_own_hostnames_are_refused(alpha_branded, settings, hostname):
    settings.BASE_DOMAIN = "localhost"
    settings.CUSTOM_DOMAIN_TARGET = "domains.localhost"

    with pytest.raises(HostnameInvalid, match="belongs to the platform"):
        domain_claim(tenant=alpha_branded, hostname=hostname, now=NOW)


def test_the_custom_domain_target_is_refused_when_outside_the_base_domain(alpha_branded, settings):
    settings.CUSTOM_DOMAIN_TARGET = "edge.tollgate-dns.net"

    with pytest.raises(HostnameInvalid):
        domain_claim(tenant=alpha_branded, hostname="alpha.edge.tollgate-dns.net", now=NOW)


def test_a_plan_without_custom_domains_refuses_a_claim_with_402(tenant_alpha):
    tenant_plan_assign(tenant=tenant_alpha, plan=PlanFactory(custom_domains=0))

    with pytest.raises(CustomDomainLimitReached) as refused:
        domain_claim(tenant=tenant_alpha, hostname="portal.example.com", now=NOW)

    assert refused.value.status == 402


def test_claims_past_the_plans_number_are_refused_but_a_removed_one_frees_its_place(alpha_branded):
    first = domain_claim(tenant=alpha_branded, hostname="one.example.com", now=NOW)
    domain_claim(tenant=alpha_branded, hostname="two.example.com", now=NOW)
    with pytest.raises(CustomDomainLimitReached):
        domain_claim(tenant=alpha_branded, hostname="three.example.com", now=NOW)

    domain_remove(domain=first, now=NOW)

    assert domain_claim(tenant=alpha_branded, hostname="three.example.com", now=NOW).status == "pending"


def test_a_hostname_held_by_another_tenant_is_refused_with_409(alpha_branded, beta_branded):
    domain_claim(tenant=alpha_branded, hostname="portal.example.com", now=NOW)

    with pytest.raises(HostnameTaken) as refused:
        domain_claim(tenant=beta_branded, hostname="PORTAL.example.com", now=NOW + timedelta(days=6))

    assert refused.value.status == 409


def test_a_tenant_cannot_claim_its_own_hostname_twice(alpha_branded):
    domain_claim(tenant=alpha_branded, hostname="portal.example.com", now=NOW)

    with pytest.raises(HostnameTaken, match="already added"):
        domain_claim(tenant=alpha_branded, hostname="portal.example.com", now=NOW)


def test_a_claim_left_pending_seven_days_is_taken_over_and_expires(alpha_branded, beta_branded):
    stale = domain_claim(tenant=alpha_branded, hostname="portal.example.com", now=NOW)
    later = NOW + timedelta(days=7)

    taken = domain_claim(tenant=beta_branded, hostname="portal.example.com", now=later)

    stale.refresh_from_db()
    assert (stale.status, stale.ended_at) == (CustomDomain.Status.EXPIRED, later)
    assert (taken.tenant, taken.status) == (beta_branded, CustomDomain.Status.PENDING)
    assert taken.verification_token != stale.verification_token


def test_a_verified_claim_is_never_taken_over_however_old(alpha_branded, beta_branded):
    held = domain_claim(tenant=alpha_branded, hostname="portal.example.com", now=NOW)
    CustomDomain.objects.filter(pk=held.pk).update(status=CustomDomain.Status.ACTIVE)

    with pytest.raises(HostnameTaken):
        domain_claim(tenant=beta_branded, hostname="portal.example.com", now=NOW + timedelta(days=60))


def test_the_database_refuses_a_second_held_claim_of_a_hostname(alpha_branded, beta_branded):
    """Two tenants racing past the service's check still end with one holder: the partial unique constraint."""
    domain_claim(tenant=alpha_branded, hostname="portal.example.com", now=NOW)

    with pytest.raises(IntegrityError), transaction.atomic():
        CustomDomain.objects.create(tenant=beta_branded, hostname="portal.example.com", claimed_at=NOW,
                                    verification_token="x")


def test_a_removed_hostname_can_be_claimed_by_another_tenant_at_once(alpha_branded, beta_branded):
    domain_remove(domain=domain_claim(tenant=alpha_branded, hostname="portal.example.com", now=NOW), now=NOW)

    assert domain_claim(tenant=beta_branded, hostname="portal.example.com", now=NOW).tenant == beta_branded
