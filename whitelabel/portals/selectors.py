"""Reads of reseller portals: which custom domains serve an agency's clients (the wildcard verified), a client's
hosts under them, whether a request is on a reseller's portal, and the price list a portal shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from affiliates.agencies.selectors import agency_profile_get
from affiliates.models import AgencyProfile
from billing.selectors import entitlements_for
from config.money import Money
from tenants.models import Domain, Tenant
from tenants.selectors import tenant_client_list
from tenants.slugs import primary_domain_for
from whitelabel.models import CustomDomain
from whitelabel.models.domains import ROUTED_STATUSES
from whitelabel.resellers.selectors import reseller_prices_active

# Where the wildcard check keeps what it found, beside the domain check's own findings in CustomDomain.last_check.
WILDCARD_KEY = "wildcard"


@dataclass(frozen=True)
class WildcardRecord:
    """The record a reseller adds so that every `<client>.<its domain>` reaches us, and what was last found."""

    name: str
    target: str
    found: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.found.get("ok") is True

    @property
    def checked(self) -> bool:
        return bool(self.found)


def wildcard_record(domain: CustomDomain) -> WildcardRecord:
    """`*.<hostname> CNAME <agency-slug>.<CUSTOM_DOMAIN_TARGET>`, the same target as the domain's own CNAME."""
    return WildcardRecord(name=f"*.{domain.hostname}",
                          target=f"{domain.tenant.slug}.{settings.CUSTOM_DOMAIN_TARGET}".lower(),
                          found=dict((domain.last_check or {}).get(WILDCARD_KEY) or {}))


def wildcard_verified(domain: CustomDomain) -> bool:
    return domain.status in ROUTED_STATUSES and wildcard_record(domain).ok


def portal_domains(*, agency: Tenant) -> QuerySet[CustomDomain]:
    """The agency's routed custom domains (active or failing), any wildcard state."""
    return CustomDomain.objects.select_related("tenant").filter(tenant=agency, status__in=ROUTED_STATUSES)


def portal_domains_serving_clients(*, agency: Tenant) -> list[CustomDomain]:
    """The agency's routed custom domains whose wildcard record was verified: its clients have a host under each."""
    return [domain for domain in portal_domains(agency=agency) if wildcard_record(domain).ok]


def client_host_name(*, client: Tenant, domain: CustomDomain) -> str:
    return f"{client.slug}.{domain.hostname}"


def client_hosts(*, client: Tenant) -> list[str]:
    """The client's hosts under its agency's reseller domains (none without an agency or a verified wildcard)."""
    if client.parent_agency_id is None:
        return []
    hostnames = [f"{client.slug}.{hostname}" for hostname in CustomDomain.objects.filter(
        tenant_id=client.parent_agency_id, status__in=ROUTED_STATUSES).values_list("hostname", flat=True)]
    return sorted(Domain.objects.filter(tenant=client, is_primary=False, domain__in=hostnames)
                  .values_list("domain", flat=True))


def client_portal_url(*, client: Tenant, path: str = "/") -> str | None:
    """An absolute URL on the client's first host under its reseller's domain, or None when it has none."""
    hosts = client_hosts(client=client)
    if not hosts:
        return None
    port = f":{settings.SITE_PORT}" if settings.SITE_PORT else ""
    return f"{settings.SITE_SCHEME}://{hosts[0]}{port}{path}"


@dataclass(frozen=True)
class ResellerPortal:
    """The request is on a reseller agency's own custom domain: its public pages are served there."""

    agency: Tenant
    hostname: str


def reseller_portal_for(*, tenant: Tenant | None, hostname: str) -> ResellerPortal | None:
    """The portal `hostname` serves, or None. A portal is the agency's own routed custom domain (not the
    platform's subdomain of it, not a client's host) while the agency is in reseller mode and its plan has
    `white_label`. Cheap for every other host: a tenant that is no agency, or the agency's own subdomain, is
    answered without a query. (A custom domain may sit under BASE_DOMAIN in the demo: portal.northwind.localhost.)"""
    if tenant is None or tenant.type != Tenant.Type.AGENCY or tenant.schema_name == settings.PUBLIC_SCHEMA_NAME:
        return None
    host = hostname.lower()
    if host.removeprefix("www.") == primary_domain_for(tenant.slug):
        return None
    if not entitlements_for(tenant=tenant).white_label or not reseller_mode(agency=tenant):
        return None
    # www.<domain> serves <domain> (tenants.middleware): either is the portal.
    claimed = (CustomDomain.objects.filter(tenant=tenant, status__in=ROUTED_STATUSES,
                                           hostname__in={host, host.removeprefix("www.")})
               .values_list("hostname", flat=True).first())
    return ResellerPortal(agency=tenant, hostname=claimed) if claimed else None


def reseller_mode(*, agency: Tenant) -> bool:
    profile = agency_profile_get(agency=agency)
    return profile is not None and profile.earnings_mode == AgencyProfile.EarningsMode.RESELLER


@dataclass(frozen=True)
class PortalPrice:
    plan_name: str
    plan_description: str
    interval: str
    price: Money


def portal_price_list(*, agency: Tenant) -> list[PortalPrice]:
    """The reseller's own active prices, as its portal shows them (never Tollgate's)."""
    return [PortalPrice(plan_name=price.plan.name, plan_description=price.plan.description, interval=price.interval,
                        price=Money(price.amount, price.currency))
            for price in reseller_prices_active(agency)]


@dataclass(frozen=True)
class PortalDomain:
    domain: CustomDomain
    wildcard: WildcardRecord
    base_url: str


@dataclass(frozen=True)
class PortalClient:
    client: Tenant
    hosts: list[str]


@dataclass(frozen=True)
class PortalOverview:
    """What the Reseller portal settings page shows: whether the public pages are on, each routed domain with
    its wildcard record, and each client's hosts."""

    reseller_mode: bool
    domains: list[PortalDomain]
    clients: list[PortalClient]


def portal_overview(*, agency: Tenant) -> PortalOverview:
    port = f":{settings.SITE_PORT}" if settings.SITE_PORT else ""
    domains = [PortalDomain(domain=domain, wildcard=wildcard_record(domain),
                            base_url=f"{settings.SITE_SCHEME}://{domain.hostname}{port}")
               for domain in portal_domains(agency=agency)]
    hostnames = [domain.domain.hostname for domain in domains]
    hosts_by_client: dict[int, list[str]] = {}
    for row in Domain.objects.filter(tenant__parent_agency=agency, is_primary=False).order_by("domain"):
        if row.domain.split(".", 1)[-1] in hostnames:
            hosts_by_client.setdefault(row.tenant_id, []).append(row.domain)
    clients = [PortalClient(client=client, hosts=hosts_by_client.get(client.pk, []))
               for client in tenant_client_list(agency=agency)]
    return PortalOverview(reseller_mode=reseller_mode(agency=agency), domains=domains, clients=clients)
