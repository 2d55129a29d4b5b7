"""Claims brought to each state through the real services and the local DNS server, for the routing tests."""

from datetime import timedelta

import pytest

from tests.support.clock import NOW
from whitelabel.domains.selectors import domain_records
from whitelabel.domains.services import domain_check, domain_claim
from whitelabel.models import CustomDomain

HOST = "portal.example.com"


@pytest.fixture
def platform_hosts(settings):
    settings.BASE_DOMAIN = "localhost"
    settings.CUSTOM_DOMAIN_TARGET = "domains.localhost"
    settings.CUSTOM_DOMAIN_APEX_ADDRESSES = ["192.0.2.10"]
    settings.CUSTOM_DOMAIN_ON_DEMAND_TLS = True


def records_publish(zone, domain: CustomDomain) -> None:
    records = domain_records(domain)
    zone.record_set(records.challenge_name, "TXT", [records.challenge_value])
    zone.record_set(domain.hostname, "CNAME", [records.cname_target])


def claim_pending(tenant, hostname: str = HOST) -> CustomDomain:
    return domain_claim(tenant=tenant, hostname=hostname, now=NOW)


def claim_active(zone, tenant, hostname: str = HOST) -> CustomDomain:
    domain = claim_pending(tenant, hostname)
    records_publish(zone, domain)
    domain = domain_check(domain=domain, now=NOW)
    assert domain.status == CustomDomain.Status.ACTIVE
    return domain


def claim_failing(zone, tenant, hostname: str = HOST) -> CustomDomain:
    domain = claim_active(zone, tenant, hostname)
    zone.name_forget(domain.hostname)
    domain = domain_check(domain=domain, now=NOW + timedelta(days=1))
    assert domain.status == CustomDomain.Status.FAILING
    return domain


def claim_released(zone, tenant, hostname: str = HOST) -> CustomDomain:
    domain = claim_failing(zone, tenant, hostname)
    domain = domain_check(domain=domain, now=NOW + timedelta(days=9))
    assert domain.status == CustomDomain.Status.RELEASED
    return domain
