"""The fraud rules as pure functions: each answers a reason (the text a FraudFlag carries) or None. The services
(affiliates.fraud.services) gather the facts and write the flags.

The agency exception: an agency's staff create their clients' workspaces themselves, so the client's owner email,
IP and device often are the agency's own. A referral is an agency client's, and never self-referral, when it was
bound by the agency's client-workspace service (source "agency": no visitor can choose that source, it is set
server-side when an agency creates the workspace) or when the referred tenant's parent_agency is the agency whose
affiliate account earns on it (set at provisioning by the same service). Every other rule still applies to it."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


@cache
def disposable_domains() -> frozenset[str]:
    """The shipped list of disposable email domains (data/disposable_domains.txt)."""
    return _domains(DATA / "disposable_domains.txt")


@cache
def free_email_domains() -> frozenset[str]:
    """Mailbox providers anyone can use (data/free_email_domains.txt)."""
    return _domains(DATA / "free_email_domains.txt")


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower()


def is_agency_client(*, source: str, affiliate_kind: str, affiliate_tenant_id: int | None,
                     parent_agency_id: int | None) -> bool:
    """Whether a referral is an agency's own client (see the module's docstring)."""
    if affiliate_kind != "agency":
        return False
    return source == "agency" or (parent_agency_id is not None and parent_agency_id == affiliate_tenant_id)


def self_referral_reason(*, affiliate_email: str, owner_email: str, signup_ip_hash: str, signup_device_hash: str,
                         click_ip_hash: str, click_device_hash: str, affiliate_ip_hashes: frozenset[str],
                         affiliate_device_hashes: frozenset[str], referred_staff_emails: frozenset[str] = frozenset(),
                         referrer_staff_emails: frozenset[str] = frozenset(),
                         referrer: str = "the affiliate") -> str | None:
    """Self-referral, the referrer signing up itself: the referred owner's email (or its domain, unless a public
    mailbox provider's) is the referrer's (`affiliate_email`: an affiliate's, or the referring workspace owner's);
    someone is staff of both workspaces (`referred_staff_emails`: the referred workspace's owner and team;
    `referrer_staff_emails`: the referring workspace's, when the referrer has one); or the signup or its click
    came from an IP address or device the referrer used itself (`affiliate_*_hashes`:
    affiliates.fraud.selectors.affiliate_fingerprints_known). `referrer` names it in the reason.

    The same IP address or device at the click and at the signup is not self-referral on its own: a visitor who
    clicks a link and signs up in the same browser is how every honest referral looks."""
    owner, affiliate = owner_email.strip().lower(), affiliate_email.strip().lower()
    if owner and owner == affiliate:
        return f"Self-referral: the referred owner's email is {referrer}'s."
    if referred_staff_emails & (referrer_staff_emails | ({affiliate} - {""})):
        # No address in the reason: the referrer may read it, and the referred workspace's team is not its business.
        return f"Self-referral: someone on the referred workspace's team is {referrer} or on its team."
    domain = email_domain(owner)
    if owner and domain and domain == email_domain(affiliate) and domain not in free_email_domains():
        return f"Self-referral: the referred owner's email domain ({domain}) is {referrer}'s."
    seen = (("signup", "a device", signup_device_hash, affiliate_device_hashes),
            ("signup", "an IP address", signup_ip_hash, affiliate_ip_hashes),
            ("click", "a device", click_device_hash, affiliate_device_hashes),
            ("click", "an IP address", click_ip_hash, affiliate_ip_hashes))
    for event, what, fingerprint, known in seen:
        if fingerprint and fingerprint in known:
            return f"Self-referral: the {event} came from {what} {referrer} used itself."
    return None


def disposable_email_reason(owner_email: str) -> str | None:
    domain = email_domain(owner_email)
    parts = domain.split(".")
    # A subdomain of a listed domain is as disposable as the domain.
    candidates = {".".join(parts[i:]) for i in range(len(parts) - 1)}
    if candidates & disposable_domains():
        return f"Disposable email domain: {domain}."
    return None


def signup_burst_reason(*, signups: int, limit: int, minutes: int, by: str) -> str | None:
    """A burst: `signups` referred signups from one IP address or network (`by`) within `minutes`, at or above
    `limit`."""
    if signups >= limit:
        return f"Burst of signups: {signups} from one {by} within {minutes} minutes."
    return None


def refund_rate_reason(*, refunded: int, paying: int, limit_percent: Decimal, min_customers: int) -> str | None:
    """Refunds or disputes at or above the program's rate among the affiliate's paying customers (only once it
    has `min_customers`: one refund among one customer is not a pattern)."""
    if paying < max(min_customers, 1):
        return None
    rate = Decimal(refunded) * 100 / paying
    if rate >= limit_percent:
        return f"Refund or dispute rate {rate:.0f} % ({refunded} of {paying} paying customers), at or above " \
               f"{limit_percent:.0f} %."
    return None


def min_paying_customers_reason(*, paying: int, required: int) -> str | None:
    if paying < required:
        return f"{paying} paying customer(s): the program asks for {required} before a first payout."
    return None


def manual_approval_reason(*, amount: Decimal, currency: str, above: Decimal | None) -> str | None:
    if above is not None and amount > above:
        return f"Commission of {amount:.2f} {currency} is above the manual approval amount ({above:.2f})."
    return None


def _domains(path: Path) -> frozenset[str]:
    lines = (line.strip().lower() for line in path.read_text().splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))
