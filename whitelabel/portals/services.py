"""Writes of reseller portals: the client hosts under a reseller's domain, the wildcard check that allows them,
a signup on the reseller's domain, and the portal's landing text.

Scheme: every client of an agency is reachable at `<client-slug>.<reseller-domain>` (bloom.portal.agency.com)
once the agency's custom domain routes (active or failing) and the wildcard record `*.<reseller-domain> CNAME
<agency-slug>.<CUSTOM_DOMAIN_TARGET>` checks out. Each such host is a tenants.Domain row of the client, so
routing, the lookup cache and the TLS ask endpoint treat it like any routed host, and removing the rows stops
it at once. The rows follow their sources: the domain's routing (whitelabel.domains.services._route_sync calls
client_hosts_sync), the wildcard check, and every save of a client tenant (a new client, another agency)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from affiliates.agencies.services import client_workspace_create
from tenants.models import Domain, Tenant
from tenants.selectors import tenant_client_list
from tenants.services import OwnerPasswordCheck, domain_route_add, domain_route_remove
from whitelabel import dns
from whitelabel.brands.services import brand_save
from whitelabel.models import Brand, CustomDomain
from whitelabel.models.domains import HOLDING_STATUSES, ROUTED_STATUSES
from whitelabel.portals.selectors import (
    WILDCARD_KEY,
    client_host_name,
    wildcard_record,
    wildcard_verified,
)

logger = logging.getLogger(__name__)

HOSTNAME_MAX_LENGTH = 253
# The label the wildcard check asks under the reseller's domain: random, so no explicit record can answer for it.
PROBE_PREFIX = "tg-probe-"


# --- Client hosts -------------------------------------------------------------------------------------------

def client_hosts_sync(domain: CustomDomain) -> None:
    """Follow a claim's routing, inside the domain service's transaction: a claim that stops routing (removed,
    released, expired, failing too long) takes its clients' hosts with it at once; a routed one has its wildcard
    checked once the transaction commits (DNS is never asked inside a transaction), which adds or removes them."""
    if domain.status not in ROUTED_STATUSES:
        _client_hosts_apply(domain, wanted=False)
        return
    domain_id = domain.pk
    transaction.on_commit(lambda: portal_wildcard_check(domain_id=domain_id, now=timezone.now()), robust=True)


def portal_wildcard_check(*, domain_id: int, now: datetime) -> CustomDomain:
    """Ask a random label under the domain (outside any transaction) whether it reaches the agency's target, keep
    what was found under last_check["wildcard"], and add or remove the clients' hosts accordingly. A timeout or a
    failing nameserver changes nothing but the record of it, like the domain check."""
    domain = CustomDomain.objects.select_related("tenant").get(pk=domain_id)
    found = _wildcard_lookup(domain) if domain.status in ROUTED_STATUSES else {}
    with transaction.atomic():
        domain = CustomDomain.objects.select_for_update().select_related("tenant").get(pk=domain_id)
        if domain.status not in ROUTED_STATUSES:
            _client_hosts_apply(domain, wanted=False)
            return domain
        if found.get("result") == "inconclusive":
            found["ok"] = wildcard_record(domain).ok
        found["checked_at"] = now.isoformat()
        domain.last_check = {**(domain.last_check or {}), WILDCARD_KEY: found}
        domain.save(update_fields=["last_check"])
        _client_hosts_apply(domain, wanted=found["ok"])
    logger.info("portal_wildcard_checked domain=%s result=%s", domain.hostname, found["result"])
    return domain


def _wildcard_lookup(domain: CustomDomain) -> dict[str, Any]:
    record = wildcard_record(domain)
    probe = f"{PROBE_PREFIX}{secrets.token_hex(6)}.{domain.hostname}"
    lookup = dns.cname_target(probe)
    expected: Any = record.target
    ok = lookup.found and record.target in lookup.values
    if lookup.outcome in (dns.Outcome.NXDOMAIN, dns.Outcome.NO_ANSWER):
        # No CNAME: a wildcard of A records must give exactly the platform's addresses, as an apex does.
        lookup = dns.addresses(probe)
        expected = list(settings.CUSTOM_DOMAIN_APEX_ADDRESSES)
        ok = lookup.found and set(lookup.values) == set(expected)
    inconclusive = lookup.outcome in (dns.Outcome.TIMEOUT, dns.Outcome.ERROR)
    result = "inconclusive" if inconclusive else ("passed" if ok else "failed")
    return {**lookup.as_dict(), "record": record.name, "expected": expected, "ok": ok, "result": result}


def _client_hosts_apply(domain: CustomDomain, *, wanted: bool) -> None:
    """Make the Domain rows `<client>.<domain>` of the agency's clients exactly what `wanted` says."""
    agency = domain.tenant
    suffix = f".{domain.hostname}"
    present = {row.domain: row.tenant_id for row in Domain.objects.filter(
        domain__endswith=suffix, is_primary=False, tenant__parent_agency_id=agency.pk)
        if "." not in row.domain.removesuffix(suffix)}
    clients = {client_host_name(client=client, domain=domain): client
               for client in tenant_client_list(agency=agency)} if wanted else {}
    for hostname, tenant_id in present.items():
        if hostname not in clients or clients[hostname].pk != tenant_id:
            domain_route_remove(tenant=Tenant(pk=tenant_id), hostname=hostname)
    for hostname, client in clients.items():
        if present.get(hostname) != client.pk:
            _client_host_add(client=client, hostname=hostname)


def _client_host_add(*, client: Tenant, hostname: str) -> None:
    if len(hostname) > HOSTNAME_MAX_LENGTH:
        logger.warning("client_host_too_long client=%s hostname=%s", client.slug, hostname)
        return
    try:
        with transaction.atomic():
            domain_route_add(tenant=client, hostname=hostname)
    except ValueError:
        # Another tenant routes this exact name already (its own custom domain): it keeps it.
        logger.warning("client_host_taken client=%s hostname=%s", client.slug, hostname)


def client_hosts_sync_for_client(*, client: Tenant) -> None:
    """A client tenant was saved (created, or moved to another agency by ops): it has a host under each of its
    agency's domains serving clients, and none under any other reseller's domain."""
    if client.schema_name == settings.PUBLIC_SCHEMA_NAME:
        return
    wanted: set[str] = set()
    if client.parent_agency_id is not None:
        serving = CustomDomain.objects.select_related("tenant").filter(tenant_id=client.parent_agency_id,
                                                                       status__in=ROUTED_STATUSES)
        wanted = {client_host_name(client=client, domain=domain) for domain in serving if wildcard_verified(domain)}
    prefix = f"{client.slug}."
    current = list(Domain.objects.filter(tenant=client, is_primary=False, domain__startswith=prefix)
                   .values_list("domain", flat=True))
    if not wanted and not current:
        return
    # A client's own custom domain may also start with its slug (bloom.shop.com): only names made of the slug and
    # another tenant's claimed hostname are client hosts.
    others = set(CustomDomain.objects.filter(hostname__in=[name.removeprefix(prefix) for name in current])
                 .exclude(tenant=client).values_list("hostname", flat=True))
    own = set(CustomDomain.objects.filter(tenant=client, hostname__in=current, status__in=HOLDING_STATUSES)
              .values_list("hostname", flat=True))
    for hostname in current:
        if hostname.removeprefix(prefix) in others and hostname not in own and hostname not in wanted:
            domain_route_remove(tenant=client, hostname=hostname)
    for hostname in wanted - set(current):
        _client_host_add(client=client, hostname=hostname)


# --- Signup on the reseller's domain --------------------------------------------------------------------------

@dataclass(frozen=True)
class PortalSignup:
    client: Tenant
    owner_id: int
    created: bool  # False: the same signup again (a double click, a retry): the owner signs in on the login page


def portal_client_signup(*, agency: Tenant, name: str, slug: str, owner_email: str, owner_password: str,
                         owner_password_check: OwnerPasswordCheck | None = None) -> PortalSignup:
    """A visitor signs up on the reseller's domain: a client workspace under `agency` (the agency the domain
    routes to, never one the visitor names), provisioned by the agencies service like any client (the usual
    clone, parent_agency, bound to the agency as a referral, consolidated billing when the agency resells) with
    the visitor as its owner and the password they chose. SlugTaken/SlugInvalid as for any client."""
    created = client_workspace_create(agency=agency, name=name, slug=slug, owner_email=owner_email,
                                      actor_email=owner_email.strip().lower(), owner_password=owner_password,
                                      owner_password_check=owner_password_check)
    return PortalSignup(client=created.client, owner_id=created.owner_id, created=created.created)


# --- The portal's landing text --------------------------------------------------------------------------------

def portal_landing_save(*, agency: Tenant, landing_title: str, landing_text: str, now: datetime) -> Brand:
    """The public landing's title and text, kept on the agency's brand (brand_save checks the plan)."""
    return brand_save(tenant=agency, data={"landing_title": landing_title, "landing_text": landing_text}, now=now)
