"""Writes of custom domains: a tenant claims a hostname, checks its DNS records, removes it; ops release it; the
daily job re-checks every held claim.

A claim moves pending → verified (its TXT challenge carries this claim's token and the host points at us) →
active (certificates are issued on demand, CUSTOM_DOMAIN_ON_DEMAND_TLS; otherwise it waits at verified) →
failing when a re-check fails → active again when fixed, or released after FAILING_RELEASE_AFTER. A claim left
pending for PENDING_TAKEOVER_AFTER can be taken over by another tenant (it becomes expired; the new claim has its
own token, so it must prove control itself).
"""

from __future__ import annotations

import logging
import re
import secrets
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import idna
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from billing.selectors import entitlements_for
from notifications.categories import Category
from notifications.services import notify
from tenants.models import Tenant
from tenants.services import domain_route_add, domain_route_remove
from whitelabel import dns
from whitelabel.domains.exceptions import (
    CustomDomainLimitReached,
    CustomDomainNotHeld,
    HostnameInvalid,
    HostnameTaken,
)
from whitelabel.domains.selectors import domain_records
from whitelabel.models import CustomDomain
from whitelabel.models.domains import HOLDING_STATUSES, ROUTED_STATUSES
from whitelabel.portals.services import client_hosts_sync

PENDING_TAKEOVER_AFTER = timedelta(days=7)
FAILING_RELEASE_AFTER = timedelta(days=7)
HOSTNAME_MAX_LENGTH = 253
LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# The advisory lock that serialises one tenant's claims, so two at once cannot pass the plan's limit together.
CLAIM_LOCK_NAMESPACE = zlib.crc32(b"whitelabel.domain_claim") & 0x7FFFFFFF

# Where staff see and fix their domains (whitelabel/domains/urls.py), linked from the notifications.
DOMAINS_PAGE_PATH = "/settings/domains/"

Status = CustomDomain.Status
logger = logging.getLogger(__name__)


def hostname_normalise(raw: str) -> str:
    """The hostname as stored and routed: IDNA 2008 ASCII form (UTS 46 mapping, so lower case), without a
    trailing dot. HostnameInvalid for anything that is not a plain multi-label DNS name: addresses, wildcards,
    underscores, labels over 63 characters, names over 253."""
    text = raw.strip().rstrip(".")
    if not text or "*" in text:
        raise HostnameInvalid("Enter a hostname such as portal.example.com.", field="hostname")
    try:
        ascii_name = idna.encode(text, uts46=True).decode("ascii")
    except idna.IDNAError as error:
        raise HostnameInvalid(f"This is not a valid hostname ({error}).", field="hostname") from error
    labels = ascii_name.split(".")
    if (len(ascii_name) > HOSTNAME_MAX_LENGTH or len(labels) < 2 or labels[-1].isdigit()
            or not all(LABEL.match(label) for label in labels)):
        raise HostnameInvalid("Enter a hostname such as portal.example.com.", field="hostname")
    return ascii_name


@transaction.atomic
def domain_claim(*, tenant: Tenant, hostname: str, now: datetime) -> CustomDomain:
    """Claim `hostname` for `tenant` with a fresh token. Refused: a hostname of ours (400), past the plan's
    number of custom domains (402), held by this tenant or by another whose claim is not a 7-day-old pending
    one (409). Such a stale claim becomes expired in the same transaction; the database constraint (one held
    claim per hostname) settles two tenants racing for it: the loser gets the 409."""
    host = hostname_normalise(hostname)
    _refuse_our_own(host)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [CLAIM_LOCK_NAMESPACE, tenant.pk])
    allowed = entitlements_for(tenant=tenant, now=now).custom_domains
    if CustomDomain.objects.filter(tenant=tenant, status__in=HOLDING_STATUSES).count() >= allowed:
        raise CustomDomainLimitReached(f"Your plan allows {allowed} custom domain(s). Remove one or upgrade.",
                                       details={"limit": allowed})
    current = CustomDomain.objects.select_for_update().filter(hostname=host, status__in=HOLDING_STATUSES).first()
    if current is not None:
        _takeover(current, tenant=tenant, now=now)
    try:
        with transaction.atomic():
            return CustomDomain.objects.create(tenant=tenant, hostname=host, claimed_at=now,
                                               verification_token=secrets.token_hex(20))
    except IntegrityError as error:
        raise HostnameTaken("Another workspace has claimed this domain.", field="hostname") from error


def _refuse_our_own(host: str) -> None:
    if host in settings.CUSTOM_DOMAIN_DEMO_HOSTNAMES:
        return
    for ours in (settings.BASE_DOMAIN.lower(), settings.CUSTOM_DOMAIN_TARGET.lower()):
        if host == ours or host.endswith(f".{ours}"):
            raise HostnameInvalid("This hostname belongs to the platform.", field="hostname")


def _takeover(current: CustomDomain, *, tenant: Tenant, now: datetime) -> None:
    """Expire another tenant's claim left pending too long; refuse any other held claim."""
    if current.tenant_id == tenant.pk:
        raise HostnameTaken("You have already added this domain.", field="hostname")
    if current.status != Status.PENDING or now - current.claimed_at < PENDING_TAKEOVER_AFTER:
        raise HostnameTaken("Another workspace has claimed this domain.", field="hostname")
    current.status = Status.EXPIRED
    current.ended_at = now
    current.save(update_fields=["status", "ended_at"])


@dataclass
class _Check:
    """What one check found. `passed` None means inconclusive: a lookup timed out or the nameservers failed."""

    passed: bool | None
    reasons: list[str] = field(default_factory=list)
    records: dict[str, Any] = field(default_factory=dict)


def domain_check(*, domain: CustomDomain, now: datetime) -> CustomDomain:
    """Look up the domain's records (outside any transaction: DNS may take DNS_TIMEOUT_S), store what was found
    in `last_check`, and move the claim on: a pass verifies a pending claim (and activates it with on-demand
    TLS) or restores a failing one; a failure of a verified or active one starts `failing_since`; failing for
    FAILING_RELEASE_AFTER releases it. An inconclusive check (timeout) moves nothing but that release.
    CustomDomainNotHeld for a claim released, removed or expired, before or during the lookups."""
    if domain.status not in HOLDING_STATUSES:
        raise CustomDomainNotHeld("This domain is no longer claimed; add it again.")
    return _check_apply(domain_id=domain.pk, check=_records_check(domain), now=now)


def _records_check(domain: CustomDomain) -> _Check:
    expected = domain_records(domain)
    check = _Check(passed=True)
    challenge = dns.txt_records(expected.challenge_name)
    challenge_ok = challenge.found and expected.challenge_value in challenge.values
    check.records["challenge"] = {**challenge.as_dict(), "expected": expected.challenge_value, "ok": challenge_ok}
    _outcome_note(check, challenge, ok=challenge_ok, missing="challenge_missing", wrong="challenge_mismatch")
    cname = dns.cname_target(domain.hostname)
    cname_ok = cname.found and expected.cname_target in cname.values
    check.records["cname"] = {**cname.as_dict(), "expected": expected.cname_target, "ok": cname_ok}
    if cname.found or cname.outcome in (dns.Outcome.TIMEOUT, dns.Outcome.ERROR):
        _outcome_note(check, cname, ok=cname_ok, missing="not_pointed", wrong="cname_elsewhere")
        return check
    # No CNAME: an apex (or a host given A records) must resolve to exactly the platform's addresses.
    found = dns.addresses(domain.hostname)
    addresses_ok = found.found and set(found.values) == set(expected.apex_addresses)
    check.records["addresses"] = {**found.as_dict(), "expected": list(expected.apex_addresses), "ok": addresses_ok}
    _outcome_note(check, found, ok=addresses_ok, missing="not_pointed", wrong="addresses_elsewhere")
    return check


def _outcome_note(check: _Check, lookup: dns.Lookup, *, ok: bool, missing: str, wrong: str) -> None:
    if ok:
        return
    if lookup.outcome in (dns.Outcome.TIMEOUT, dns.Outcome.ERROR):
        check.reasons.append(f"{lookup.rtype.lower()}_{lookup.outcome.value}")
        if check.passed:
            check.passed = None
        return
    check.reasons.append(wrong if lookup.found else missing)
    check.passed = False


@transaction.atomic
def _check_apply(*, domain_id: int, check: _Check, now: datetime) -> CustomDomain:
    domain = CustomDomain.objects.select_for_update().select_related("tenant").get(pk=domain_id)
    if domain.status not in HOLDING_STATUSES:
        raise CustomDomainNotHeld("This domain is no longer claimed; add it again.")
    before, failing_since = domain.status, domain.failing_since
    result = {True: "passed", False: "failed", None: "inconclusive"}[check.passed]
    domain.last_check = {"checked_at": now.isoformat(), "result": result, "reasons": check.reasons,
                         **check.records}
    domain.last_checked_at = now
    if check.passed:
        _passed(domain, now=now)
    elif check.passed is False and domain.status in (Status.VERIFIED, Status.ACTIVE):
        domain.status = Status.FAILING
        domain.failing_since = now
    elif domain.status == Status.FAILING and now - domain.failing_since >= FAILING_RELEASE_AFTER:
        domain.status = Status.RELEASED
        domain.ended_at = now
    domain.save()
    _route_sync(domain)
    _state_announce(domain=domain, before=before, failing_since=failing_since, now=now)
    return domain


def _route_sync(domain: CustomDomain) -> None:
    """Active and failing claims route to their tenant (failing: still served while it is re-checked); any other
    state does not. Routing is a tenants.Domain row, so the one cached host lookup serves custom domains too, and
    deleting the row forgets the cached route in every process at once."""
    if domain.status in ROUTED_STATUSES:
        domain_route_add(tenant=domain.tenant, hostname=domain.hostname)
    else:
        domain_route_remove(tenant=domain.tenant, hostname=domain.hostname)
    client_hosts_sync(domain)  # a reseller's clients live under its domain (<client>.<hostname>)


def _passed(domain: CustomDomain, *, now: datetime) -> None:
    domain.failing_since = None
    if domain.verified_at is None:
        domain.verified_at = now
    if domain.activated_at is None and settings.CUSTOM_DOMAIN_ON_DEMAND_TLS:
        domain.activated_at = now
    domain.status = Status.ACTIVE if domain.activated_at else Status.VERIFIED


def _state_announce(*, domain: CustomDomain, before: str, failing_since: datetime | None, now: datetime) -> None:
    """Tell the tenant's owners and admins (in the caller's transaction) when a check moved the domain into or
    out of trouble: it started failing, it checks out again, it was released. Each cause names the failing
    episode (its `failing_since`), so a check repeated the same day, a retried job or two checks racing tell
    nobody twice, while a domain that fails again next month is announced again."""
    host, grace_days = domain.hostname, FAILING_RELEASE_AFTER.days
    if domain.status == Status.FAILING and before != Status.FAILING:
        what, title = "failing", f"{host} is failing its DNS check"
        reasons = ", ".join(domain.last_check.get("reasons", []))
        body = (f"{host} no longer points at us or lost its verification record ({reasons}). It keeps working while "
                f"we re-check it daily; fix its records within {grace_days} days or it is released.")
    elif before == Status.FAILING and domain.status in (Status.ACTIVE, Status.VERIFIED):
        what, title = "recovered", f"{host} checks out again"
        body = f"{host}'s DNS records are right again; nothing more to do."
    elif before == Status.FAILING and domain.status == Status.RELEASED:
        what, title = "released", f"{host} was released"
        body = (f"{host} failed its DNS check for {grace_days} days and no longer routes to your workspace. Add it "
                "again once its records are right.")
    else:
        return
    episode = (domain.failing_since or failing_since).isoformat()
    notify(tenant=domain.tenant, category=Category.DOMAIN_ALERT, cause=f"custom_domain:{domain.pk}:{what}:{episode}",
           title=title, body=body, link=DOMAINS_PAGE_PATH, now=now)


@transaction.atomic
def domain_release(*, domain: CustomDomain, now: datetime) -> CustomDomain:
    """Ops release a held claim (its DNS moved away, abuse, a dispute): it stops routing at once and the hostname
    is free to be claimed again, by anyone who proves it."""
    domain = CustomDomain.objects.select_for_update().select_related("tenant").get(pk=domain.pk)
    if domain.status not in HOLDING_STATUSES:
        raise CustomDomainNotHeld("This domain is no longer claimed.")
    domain.status = Status.RELEASED
    domain.ended_at = now
    domain.save(update_fields=["status", "ended_at"])
    _route_sync(domain)
    return domain


@dataclass(frozen=True)
class RecheckRun:
    checked: int  # checks stored (passed, failed or inconclusive)
    skipped: int  # claims removed or released while the run went on
    errors: int  # checks that raised: logged, the run went on


def custom_domains_recheck(*, now: datetime) -> RecheckRun:
    """Re-check every held claim (pending ones too, so a claim whose records appear later is verified without a
    click), one at a time, each in its own short transaction after its own DNS lookups: no transaction is held
    across DNS queries, and one domain's failure (a bug, a lost connection) is logged and does not stop the others.
    Running twice the same day checks twice and tells staff once (_state_announce)."""
    checked = skipped = errors = 0
    ids = list(CustomDomain.objects.filter(status__in=HOLDING_STATUSES).order_by("pk").values_list("pk", flat=True))
    for domain_id in ids:
        try:
            domain = CustomDomain.objects.select_related("tenant").filter(pk=domain_id).first()
            if domain is None:  # its tenant was deleted meanwhile
                skipped += 1
                continue
            domain_check(domain=domain, now=now)
        except CustomDomainNotHeld:
            skipped += 1
        except Exception:
            errors += 1
            logger.exception("custom_domain_recheck_failed domain_id=%s", domain_id)
        else:
            checked += 1
    logger.info("custom_domains_rechecked checked=%s skipped=%s errors=%s", checked, skipped, errors)
    return RecheckRun(checked=checked, skipped=skipped, errors=errors)


@transaction.atomic
def domain_remove(*, domain: CustomDomain, now: datetime) -> CustomDomain:
    """The tenant gives the hostname up: it is free to be claimed again at once."""
    domain = CustomDomain.objects.select_for_update().get(pk=domain.pk)
    if domain.status not in HOLDING_STATUSES:
        raise CustomDomainNotHeld("This domain is no longer claimed.")
    domain.status = Status.REMOVED
    domain.ended_at = now
    domain.save(update_fields=["status", "ended_at"])
    _route_sync(domain)
    return domain
