"""The one place that resolves DNS (custom domains, sender domains): dnspython behind three lookups that return
plain typed results, so no caller handles dnspython's exceptions or objects.

The resolver is built from settings on every lookup (DNS_RESOLVER_NAMESERVERS and DNS_RESOLVER_PORT, or the
system's resolv.conf when no nameserver is set; DNS_TIMEOUT_S bounds the whole lookup, retries included). It
keeps no cache: a verification must see what the zone says now, not what it said a minute ago.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import dns.exception
import dns.resolver
from django.conf import settings


class Outcome(enum.StrEnum):
    FOUND = "found"
    NXDOMAIN = "nxdomain"  # the name does not exist
    NO_ANSWER = "no_answer"  # the name exists but has no record of this type
    TIMEOUT = "timeout"  # no nameserver answered in time
    ERROR = "error"  # the nameservers answered with a failure (SERVFAIL, REFUSED, ...)


@dataclass(frozen=True)
class Lookup:
    """What one query found: `values` (TXT strings joined per record, CNAME targets and addresses without the
    trailing dot, lower-cased names) when the outcome is FOUND, empty otherwise."""

    name: str
    rtype: str
    outcome: Outcome
    values: tuple[str, ...] = ()

    @property
    def found(self) -> bool:
        return self.outcome is Outcome.FOUND

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.rtype, "outcome": self.outcome.value, "values": list(self.values)}


def txt_records(name: str) -> Lookup:
    """The TXT records of `name`, each record's strings joined (a long value is split into 255-byte strings)."""
    return _lookup(name, "TXT", lambda rdata: b"".join(rdata.strings).decode("utf-8", "replace"))


def cname_target(name: str) -> Lookup:
    """The CNAME of `name` (one value at most, lower-cased, without the trailing dot)."""
    return _lookup(name, "CNAME", lambda rdata: rdata.target.to_text(omit_final_dot=True).lower())


def addresses(name: str) -> Lookup:
    """The A and AAAA addresses `name` resolves to (after any CNAME chain). FOUND when either type has some; a
    timeout of either query is a timeout (an answer would not be complete)."""
    ipv4 = _lookup(name, "A", lambda rdata: rdata.address)
    ipv6 = _lookup(name, "AAAA", lambda rdata: rdata.address)
    outcomes = (ipv4.outcome, ipv6.outcome)
    if Outcome.TIMEOUT in outcomes:
        return Lookup(name=ipv4.name, rtype="A/AAAA", outcome=Outcome.TIMEOUT)
    if ipv4.values or ipv6.values:
        return Lookup(name=ipv4.name, rtype="A/AAAA", outcome=Outcome.FOUND, values=ipv4.values + ipv6.values)
    outcome = next((o for o in (Outcome.ERROR, Outcome.NXDOMAIN) if o in outcomes), Outcome.NO_ANSWER)
    return Lookup(name=ipv4.name, rtype="A/AAAA", outcome=outcome)


def _resolver() -> dns.resolver.Resolver:
    nameservers = list(settings.DNS_RESOLVER_NAMESERVERS)
    resolver = dns.resolver.Resolver(configure=not nameservers)
    if nameservers:
        resolver.nameservers = nameservers
    resolver.port = settings.DNS_RESOLVER_PORT
    resolver.lifetime = settings.DNS_TIMEOUT_S
    resolver.timeout = settings.DNS_TIMEOUT_S
    resolver.cache = None
    return resolver


def _lookup(name: str, rtype: str, value_of) -> Lookup:
    name = name.rstrip(".").lower()
    try:
        answer = _resolver().resolve(name, rtype, search=False)
    except dns.resolver.NXDOMAIN:
        return Lookup(name=name, rtype=rtype, outcome=Outcome.NXDOMAIN)
    except dns.resolver.NoAnswer:
        return Lookup(name=name, rtype=rtype, outcome=Outcome.NO_ANSWER)
    except dns.exception.Timeout:
        return Lookup(name=name, rtype=rtype, outcome=Outcome.TIMEOUT)
    except dns.exception.DNSException:
        return Lookup(name=name, rtype=rtype, outcome=Outcome.ERROR)
    return Lookup(name=name, rtype=rtype, outcome=Outcome.FOUND, values=tuple(value_of(rdata) for rdata in answer))
