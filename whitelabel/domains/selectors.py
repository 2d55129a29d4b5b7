"""Reads of custom domains: a tenant's domains, one of them, the DNS records a domain needs (and as rows to
show), how many the plan offers, and what a host that routing does not know is (a claim not ready yet), or
whether a certificate may be issued for it."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from billing.selectors import entitlements_for
from tenants.models import Tenant
from tenants.selectors import tenant_for_hostname
from tenants.urls_for import tenant_url
from whitelabel.models import CustomDomain
from whitelabel.models.domains import HOLDING_STATUSES, ROUTED_STATUSES

CHALLENGE_LABEL = "_tollgate-challenge"


@dataclass(frozen=True)
class DomainRecords:
    """What the tenant creates at its DNS host: the TXT challenge, and either the CNAME (a subdomain) or, for an
    apex (which cannot hold a CNAME), A records to the platform's addresses."""

    challenge_name: str
    challenge_value: str
    cname_name: str
    cname_target: str
    apex_addresses: tuple[str, ...]


def domain_records(domain: CustomDomain) -> DomainRecords:
    return DomainRecords(
        challenge_name=f"{CHALLENGE_LABEL}.{domain.hostname}", challenge_value=domain.verification_token,
        cname_name=domain.hostname, cname_target=f"{domain.tenant.slug}.{settings.CUSTOM_DOMAIN_TARGET}".lower(),
        apex_addresses=tuple(settings.CUSTOM_DOMAIN_APEX_ADDRESSES),
    )


def domain_list(*, tenant: Tenant, held_only: bool = False) -> QuerySet[CustomDomain]:
    domains = CustomDomain.objects.filter(tenant=tenant)
    return domains.filter(status__in=HOLDING_STATUSES) if held_only else domains


def domain_get(*, tenant: Tenant, domain_id: int) -> CustomDomain:
    """One of the tenant's domains; CustomDomain.DoesNotExist for another tenant's, as for none at all."""
    return CustomDomain.objects.select_related("tenant").get(tenant=tenant, pk=domain_id)


def tenant_public_base_url(tenant: Tenant) -> str:
    """Where the tenant's people are sent by links we write (emails): `scheme://host[:port]` of its active custom
    domain (the first activated, when it has several), else of its own host. Failing domains are left out: they
    still route, but a re-check has just found them broken."""
    custom = (CustomDomain.objects.filter(tenant=tenant, status=CustomDomain.Status.ACTIVE)
              .order_by("activated_at", "hostname").values_list("hostname", flat=True).first())
    if custom is None:
        return tenant_url(tenant, "")
    port = f":{settings.SITE_PORT}" if settings.SITE_PORT else ""
    return f"{settings.SITE_SCHEME}://{custom}{port}"


def domain_waiting_for_route(hostname: str) -> bool:
    """Whether `hostname` is claimed by a tenant but does not route yet (pending or verified): such a host gets
    the neutral "not ready" page. Asked only for hosts the routing table does not know, so it is off the hot
    path and not cached."""
    held = set(HOLDING_STATUSES) - set(ROUTED_STATUSES)
    return CustomDomain.objects.filter(hostname=hostname.lower(), status__in=held).exists()


def tls_certificate_allowed(hostname: str) -> bool:
    """Whether a certificate may be issued for `hostname` (Caddy's on-demand TLS "ask"): the hosts that route,
    i.e. the platform's own (BASE_DOMAIN, tenants' subdomains) and active or failing custom domains, all of them
    rows of the one routing table read through its cached lookup. Never a pending or verified claim: a
    certificate for a host that does not route to us yet would only let someone make us spend issuance quota."""
    return tenant_for_hostname(hostname) is not None


@dataclass(frozen=True)
class RecordRow:
    """One DNS record to create, as the page's copyable table and the API show it. `when` says which of the
    pointing records applies: "always" (the TXT), "subdomain" (the CNAME) or "apex" (A records instead)."""

    type: str
    name: str
    value: str
    when: str


def domain_record_rows(domain: CustomDomain) -> list[RecordRow]:
    records = domain_records(domain)
    rows = [RecordRow("TXT", records.challenge_name, records.challenge_value, "always"),
            RecordRow("CNAME", records.cname_name, records.cname_target, "subdomain")]
    rows += [RecordRow("A" if ":" not in address else "AAAA", domain.hostname, address, "apex")
             for address in records.apex_addresses]
    return rows


def custom_domains_offered(*, tenant: Tenant) -> int:
    """How many custom domains the tenant's plan lets it hold: 0 without the white_label entitlement, so the
    Domains page and API are an upsell there."""
    entitlements = entitlements_for(tenant=tenant)
    return entitlements.custom_domains if entitlements.white_label else 0


# The records a check looks up, in the order pages show them (last_check's keys).
CHECKED_RECORDS = ("challenge", "cname", "addresses")


@dataclass(frozen=True)
class CheckFinding:
    """What the last check found for one record: `values` found, `expected` (always a list), and whether it fits."""

    record: str
    type: str
    name: str
    outcome: str
    values: tuple[str, ...]
    expected: tuple[str, ...]
    ok: bool


def domain_check_findings(domain: CustomDomain) -> list[CheckFinding]:
    """The last check's findings, record by record (empty before the first check), for the page, API and admin."""
    last = domain.last_check or {}
    findings = []
    for record in CHECKED_RECORDS:
        if record not in last:
            continue
        found = last[record]
        expected = found.get("expected")
        findings.append(CheckFinding(
            record=record, type=found.get("type", ""), name=found.get("name", ""), outcome=found.get("outcome", ""),
            values=tuple(found.get("values", [])), ok=bool(found.get("ok")),
            expected=tuple(expected) if isinstance(expected, list) else (expected,) if expected else ()))
    return findings
