"""Writes of sender domains: a brand names the domain it wants to send from, its DKIM, SPF and DMARC records are
checked through the one resolver (whitelabel/dns.py), and the daily re-check keeps the state true.

pending (records not all right yet) → verified (all three right: mail goes out From the brand's address) →
failing (a re-check found one missing or wrong: mail falls back to the platform's sender) → verified again once
fixed. A check that could not finish (a timeout, a nameserver failure) moves nothing. The brand's owners and
admins are told (notification category domain_alert) when it stops checking out and when it checks out again.
"""

from __future__ import annotations

import base64
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.db import transaction

from billing.selectors import entitlements_for
from notifications.categories import Category
from notifications.services import notify
from whitelabel import dns
from whitelabel.brands.exceptions import WhiteLabelNotInPlan
from whitelabel.domains.exceptions import HostnameInvalid
from whitelabel.domains.services import hostname_normalise
from whitelabel.email.exceptions import SenderDomainInvalid
from whitelabel.email.selectors import DMARC_POLICIES_ACCEPTED, SenderRecord, sender_records
from whitelabel.models import Brand, SenderDomain

logger = logging.getLogger(__name__)

DKIM_KEY_BITS = 2048
BRANDING_PAGE_PATH = "/settings/branding/#sender-domain"
Status = SenderDomain.Status


@transaction.atomic
def sender_domain_set(*, brand: Brand, domain: str, now: datetime) -> SenderDomain:
    """Make `domain` the brand's sender domain, pending until checked, with a fresh DKIM key pair (RSA 2048; the
    private key is stored for signing and never shown). The domain it already has is kept as it is (key and
    state), so publishing the records and saving the form again changes nothing. Refused: without the plan's
    `white_label` (402), a malformed domain or one of the platform's own (400)."""
    if not entitlements_for(tenant=brand.tenant, now=now).white_label:
        raise WhiteLabelNotInPlan("Sending from your own domain needs a plan with white-label.")
    name = _domain_normalise(domain)
    Brand.objects.select_for_update().filter(pk=brand.pk).first()  # one change of the brand's sender at a time
    current = SenderDomain.objects.filter(brand=brand).first()
    if current is not None and current.domain == name:
        return current
    public_key, private_key = _dkim_key_pair()
    sender = current or SenderDomain(brand=brand)
    sender.domain = name
    sender.dkim_selector = f"tg{secrets.token_hex(3)}"  # a new selector per key: an old record never matches
    sender.dkim_public_key = public_key
    sender.dkim_private_key = private_key
    sender.status = Status.PENDING
    sender.last_check = {}
    sender.last_checked_at = None
    sender.verified_at = None
    sender.created_at = now
    sender.save()
    logger.info("sender_domain_set brand=%s domain=%s", brand.pk, name)
    return sender


@transaction.atomic
def sender_domain_remove(*, brand: Brand) -> None:
    """The brand sends from the platform's address again (with its name and reply-to)."""
    SenderDomain.objects.filter(brand=brand).delete()
    logger.info("sender_domain_removed brand=%s", brand.pk)


def _domain_normalise(domain: str) -> str:
    try:
        name = hostname_normalise(domain)
    except HostnameInvalid as error:
        raise SenderDomainInvalid("Enter a domain such as mail.example.com.", field="domain") from error
    platform_sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2].lower()
    for ours in (settings.BASE_DOMAIN.lower(), settings.CUSTOM_DOMAIN_TARGET.lower(), platform_sender):
        if ours and (name == ours or name.endswith(f".{ours}")):
            raise SenderDomainInvalid("This domain belongs to the platform.", field="domain")
    return name


def _dkim_key_pair() -> tuple[str, str]:
    """(the p= value: the public key as base64 DER SubjectPublicKeyInfo, the private key as PKCS#8 PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=DKIM_KEY_BITS)
    public_der = key.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    return base64.b64encode(public_der).decode("ascii"), private_pem.decode("ascii")


@dataclass
class _Check:
    """What one check found, record by record. `passed` None: inconclusive (a lookup timed out or failed)."""

    passed: bool | None = True
    findings: dict[str, dict[str, Any]] = field(default_factory=dict)

    def note(self, record: SenderRecord, lookup: dns.Lookup, *, finding: str, message: str, ok: bool) -> None:
        self.findings[record.key] = {**lookup.as_dict(), "expected": record.value, "ok": ok, "finding": finding,
                                     "message": message}
        if ok:
            return
        if lookup.outcome in (dns.Outcome.TIMEOUT, dns.Outcome.ERROR):
            if self.passed:
                self.passed = None
        else:
            self.passed = False


def sender_domain_check(*, sender_domain: SenderDomain, now: datetime) -> SenderDomain:
    """Look up the DKIM, SPF and DMARC records (outside any transaction: DNS may take DNS_TIMEOUT_S each), store
    each record's finding in `last_check`, and move the state: all three right verify it (a pending or failing
    one); one wrong turns a verified one failing; an inconclusive check moves nothing."""
    dkim, spf, dmarc = sender_records(sender_domain)
    check = _Check()
    _dkim_check(check, dkim, public_key=sender_domain.dkim_public_key)
    _spf_check(check, spf)
    _dmarc_check(check, dmarc)
    return _check_apply(sender_domain_id=sender_domain.pk, check=check, now=now)


def _dkim_check(check: _Check, record: SenderRecord, *, public_key: str) -> None:
    lookup = dns.txt_records(record.name)
    keys = [_tags(value).get("p", "").replace(" ", "") for value in lookup.values]
    if _inconclusive(lookup):
        check.note(record, lookup, finding=f"dkim_{lookup.outcome.value}", ok=False,
                   message="The DKIM record could not be looked up; it will be checked again.")
    elif not keys:
        check.note(record, lookup, finding="dkim_missing", ok=False,
                   message=f"No DKIM record at {record.name}.")
    elif public_key not in keys:
        check.note(record, lookup, finding="dkim_wrong_key", ok=False,
                   message="The DKIM record holds another key: copy the value shown here.")
    else:
        check.note(record, lookup, finding="ok", ok=True, message="The DKIM key is published.")


def _spf_check(check: _Check, record: SenderRecord) -> None:
    lookup = dns.txt_records(record.name)
    spf = [value for value in lookup.values if value.lower().split(" ", 1)[0] == "v=spf1"]
    include = f"include:{settings.EMAIL_SPF_INCLUDE}".lower()
    if _inconclusive(lookup):
        check.note(record, lookup, finding=f"spf_{lookup.outcome.value}", ok=False,
                   message="The SPF record could not be looked up; it will be checked again.")
    elif not spf:
        check.note(record, lookup, finding="spf_missing", ok=False, message=f"No SPF record on {record.name}.")
    elif len(spf) > 1:
        check.note(record, lookup, finding="spf_multiple", ok=False,
                   message="There are several SPF records; merge them into one (SPF fails with two).")
    elif not any(term.lstrip("+?~-") == include for term in spf[0].lower().split()):
        check.note(record, lookup, finding="spf_include_missing", ok=False,
                   message=f"The SPF record does not include {settings.EMAIL_SPF_INCLUDE}.")
    else:
        check.note(record, lookup, finding="ok", ok=True, message="The SPF record includes the platform.")


def _dmarc_check(check: _Check, record: SenderRecord) -> None:
    lookup = dns.txt_records(record.name)
    dmarc = [_tags(value) for value in lookup.values if value.replace(" ", "").lower().startswith("v=dmarc1")]
    if _inconclusive(lookup):
        check.note(record, lookup, finding=f"dmarc_{lookup.outcome.value}", ok=False,
                   message="The DMARC record could not be looked up; it will be checked again.")
    elif not dmarc:
        check.note(record, lookup, finding="dmarc_missing", ok=False, message=f"No DMARC record at {record.name}.")
    elif len(dmarc) > 1:
        check.note(record, lookup, finding="dmarc_multiple", ok=False,
                   message="There are several DMARC records; keep one.")
    elif dmarc[0].get("p", "").lower() not in DMARC_POLICIES_ACCEPTED:
        check.note(record, lookup, finding="dmarc_policy_weak", ok=False,
                   message="The DMARC policy must be p=quarantine or p=reject.")
    elif dmarc[0].get("adkim", "r").lower() != "s" or dmarc[0].get("aspf", "r").lower() != "s":
        # Without the tags DMARC is relaxed; strict alignment is what the record must say.
        check.note(record, lookup, finding="dmarc_alignment_relaxed", ok=False,
                   message="The DMARC record must ask for strict alignment: adkim=s; aspf=s.")
    else:
        check.note(record, lookup, finding="ok", ok=True, message="The DMARC policy is strict.")


def _tags(value: str) -> dict[str, str]:
    """A DKIM or DMARC record's tag=value list, tag names lower-cased."""
    tags = {}
    for part in value.split(";"):
        name, sep, tag_value = part.partition("=")
        if sep:
            tags[name.strip().lower()] = tag_value.strip()
    return tags


def _inconclusive(lookup: dns.Lookup) -> bool:
    return lookup.outcome in (dns.Outcome.TIMEOUT, dns.Outcome.ERROR)


@transaction.atomic
def _check_apply(*, sender_domain_id: int, check: _Check, now: datetime) -> SenderDomain:
    sender = (SenderDomain.objects.select_for_update(of=("self",)).select_related("brand__tenant")
              .get(pk=sender_domain_id))
    result = {True: "passed", False: "failed", None: "inconclusive"}[check.passed]
    sender.last_check = {"checked_at": now.isoformat(), "result": result, **check.findings}
    sender.last_checked_at = now
    before, verified_at = sender.status, sender.verified_at
    if check.passed:
        if sender.status != Status.VERIFIED:
            sender.verified_at = now
        sender.status = Status.VERIFIED
    elif check.passed is False and sender.status == Status.VERIFIED:
        sender.status = Status.FAILING
    sender.save()
    _state_announce(sender=sender, before=before, verified_at=verified_at, now=now)
    logger.info("sender_domain_checked brand=%s domain=%s result=%s status=%s->%s", sender.brand_id,
                sender.domain, result, before, sender.status)
    return sender


def _state_announce(*, sender: SenderDomain, before: str, verified_at: datetime | None, now: datetime) -> None:
    """Tell the brand's owners and admins (in the caller's transaction) when a check moved the sending domain out
    of verified (emails fall back to the platform's address) or back. Each cause names the verified episode that
    ended (or the new one), so a repeated check or a retried job tells nobody twice."""
    domain = sender.domain
    if before == Status.VERIFIED and sender.status == Status.FAILING:
        what, episode = "failing", verified_at
        title = f"{domain} stopped checking out: emails come from the platform's address"
        failing = [sender.last_check[key]["message"] for key in ("dkim", "spf", "dmarc")
                   if not sender.last_check.get(key, {}).get("ok", True)]
        body = (f"{' '.join(failing)} Until the records are right again, your emails are sent from the platform's "
                "address under your brand's name; we re-check them daily.")
    elif before == Status.FAILING and sender.status == Status.VERIFIED:
        what, episode = "recovered", sender.verified_at
        title, body = f"{domain} checks out again", f"Your emails are sent from {domain} again."
    else:
        return
    notify(tenant=sender.brand.tenant, category=Category.DOMAIN_ALERT,
           cause=f"sender_domain:{sender.pk}:{what}:{episode.isoformat() if episode else ''}", title=title,
           body=body, link=BRANDING_PAGE_PATH, now=now)


@dataclass(frozen=True)
class Recheck:
    checked: int
    verified: int
    failing: int


def sender_domains_recheck(*, now: datetime) -> Recheck:
    """Check every sender domain once (the daily beat job): a verified one whose records went away turns
    failing, a failing or pending one whose records are right now turns verified."""
    checked = []
    for sender in SenderDomain.objects.order_by("pk").iterator():
        try:
            checked.append(sender_domain_check(sender_domain=sender, now=now).status)
        except SenderDomain.DoesNotExist:  # removed (or replaced by its brand) while the job ran
            continue
    return Recheck(checked=len(checked), verified=checked.count(Status.VERIFIED),
                   failing=checked.count(Status.FAILING))
