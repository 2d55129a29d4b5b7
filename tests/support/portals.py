"""A reseller for tests: an agency on the White-Label plan in reseller mode, its custom domain active through the
real resolver and the local DNS server, the wildcard record for its clients, and clients under it."""

from __future__ import annotations

from django.test import Client
from django.utils import timezone

from affiliates.agencies.services import agency_profile_ensure
from affiliates.models import AgencyProfile
from tenants.models import Tenant
from tests.support.agencies import agency_make, client_make
from tests.support.clock import NOW
from whitelabel.domains.selectors import domain_records
from whitelabel.domains.services import domain_check, domain_claim
from whitelabel.models import Brand, CustomDomain
from whitelabel.portals.selectors import wildcard_record

WHITE_LABEL_PLAN_CODE = "white-label"


def reseller_make(slug: str = "northwind", *, reseller: bool = True) -> Tenant:
    """An agency on the White-Label plan (client workspaces, white-label, a custom domain), in reseller mode."""
    agency = agency_make(slug, plan_code=WHITE_LABEL_PLAN_CODE)
    if reseller:
        profile = agency_profile_ensure(agency=agency)
        profile.earnings_mode = AgencyProfile.EarningsMode.RESELLER
        profile.save(update_fields=["earnings_mode"])
    return agency


def domain_records_publish(zone, domain: CustomDomain) -> None:
    records = domain_records(domain)
    zone.record_set(records.challenge_name, "TXT", [records.challenge_value])
    zone.record_set(domain.hostname, "CNAME", [records.cname_target])


def wildcard_publish(zone, domain: CustomDomain, *, target: str | None = None) -> None:
    record = wildcard_record(domain)
    zone.record_set(record.name, "CNAME", [target or record.target])


def portal_domain_make(zone, agency: Tenant, hostname: str, *, wildcard: bool = True,
                       capture=None) -> CustomDomain:
    """The agency's claim of `hostname`, proven and active; with `wildcard`, its wildcard record published before
    the check, whose after-commit wildcard check runs inside `capture` (django_capture_on_commit_callbacks)."""
    domain = domain_claim(tenant=agency, hostname=hostname, now=NOW)
    domain_records_publish(zone, domain)
    if wildcard:
        wildcard_publish(zone, domain)
    with capture(execute=True):
        domain = domain_check(domain=domain, now=NOW)
    domain.refresh_from_db()
    return domain


def brand_make(agency: Tenant, **fields) -> Brand:
    from whitelabel.brands.services import brand_save

    return brand_save(tenant=agency, data={"display_name": "Northwind Digital", "primary_colour": "#0b5d1e",
                                           "accent_colour": "#5b2a86", **fields}, now=timezone.now())


def portal_client(hostname: str) -> Client:
    return Client(HTTP_HOST=hostname)


__all__ = ["NOW", "client_make"]
