"""Reads of sender domains: a brand's, a workspace's own, and the DNS records a sender domain needs."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from tenants.models import Tenant
from whitelabel.models import Brand, SenderDomain

DKIM_LABEL = "_domainkey"
DMARC_LABEL = "_dmarc"
# What the DMARC record we ask for says: reject or quarantine, and strict alignment for DKIM and SPF alike.
DMARC_POLICIES_ACCEPTED = ("reject", "quarantine")


@dataclass(frozen=True)
class SenderRecord:
    """One TXT record the brand creates at its DNS host."""

    key: str  # dkim, spf or dmarc
    name: str
    value: str


def sender_records(sender_domain: SenderDomain) -> tuple[SenderRecord, SenderRecord, SenderRecord]:
    """The DKIM, SPF and DMARC records to publish. SPF: an existing SPF record gets the include added rather than
    a second record (two make SPF fail). DMARC: p=quarantine is the least we accept (p=reject is fine too)."""
    domain = sender_domain.domain
    return (
        SenderRecord(key="dkim", name=f"{sender_domain.dkim_selector}.{DKIM_LABEL}.{domain}",
                     value=f"v=DKIM1; k=rsa; p={sender_domain.dkim_public_key}"),
        SenderRecord(key="spf", name=domain, value=f"v=spf1 include:{settings.EMAIL_SPF_INCLUDE} ~all"),
        SenderRecord(key="dmarc", name=f"{DMARC_LABEL}.{domain}", value="v=DMARC1; p=quarantine; adkim=s; aspf=s"),
    )


def sender_domain_for(*, brand: Brand) -> SenderDomain | None:
    """The brand's sender domain, in any state."""
    return SenderDomain.objects.filter(brand_id=brand.pk).first()


def sender_domain_own(*, tenant: Tenant) -> SenderDomain | None:
    """The sender domain of the tenant's own brand (never its agency's): what its Branding page shows."""
    return SenderDomain.objects.select_related("brand").filter(brand__tenant=tenant).first()


def sender_domain_sends(*, sender_domain: SenderDomain | None, address: str) -> bool:
    """Whether mail may go out From `address` on this sender domain: verified, and the address on it."""
    return (sender_domain is not None and sender_domain.status == SenderDomain.Status.VERIFIED
            and sender_address_on_domain(sender_domain=sender_domain, address=address))


def sender_address_on_domain(*, sender_domain: SenderDomain, address: str) -> bool:
    """Whether `address` is on exactly the sender domain (DMARC's strict alignment accepts no other, not even a
    subdomain or the parent)."""
    return "@" in address and address.rpartition("@")[2].lower() == sender_domain.domain.lower()
