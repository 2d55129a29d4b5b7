"""The domain selectors answer for one tenant only."""

import pytest

from tests.support.clock import NOW
from whitelabel.domains.selectors import domain_get, domain_list, domain_records
from whitelabel.domains.services import domain_claim, domain_remove
from whitelabel.models import CustomDomain


def test_another_tenants_domain_is_not_found(alpha_branded, beta_branded):
    theirs = domain_claim(tenant=beta_branded, hostname="portal.example.com", now=NOW)

    with pytest.raises(CustomDomain.DoesNotExist):
        domain_get(tenant=alpha_branded, domain_id=theirs.pk)


def test_a_tenants_list_holds_only_its_domains_and_held_only_drops_the_ended(alpha_branded, beta_branded):
    kept = domain_claim(tenant=alpha_branded, hostname="one.example.com", now=NOW)
    domain_remove(domain=domain_claim(tenant=alpha_branded, hostname="two.example.com", now=NOW), now=NOW)
    domain_claim(tenant=beta_branded, hostname="three.example.com", now=NOW)

    assert {d.hostname for d in domain_list(tenant=alpha_branded)} == {"one.example.com", "two.example.com"}
    assert list(domain_list(tenant=alpha_branded, held_only=True)) == [kept]


def test_the_records_to_create_name_the_challenge_and_the_tenants_target(alpha_branded, settings):
    settings.CUSTOM_DOMAIN_TARGET = "domains.localhost"
    settings.CUSTOM_DOMAIN_APEX_ADDRESSES = ["192.0.2.10"]
    domain = domain_claim(tenant=alpha_branded, hostname="portal.example.com", now=NOW)

    records = domain_records(domain)

    assert (records.challenge_name, records.challenge_value) == ("_tollgate-challenge.portal.example.com",
                                                                 domain.verification_token)
    assert (records.cname_name, records.cname_target) == ("portal.example.com", "alpha.domains.localhost")
    assert records.apex_addresses == ("192.0.2.10",)
