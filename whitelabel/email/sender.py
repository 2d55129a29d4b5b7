"""Who an email is from: the platform, or a brand (under its name, from its own address once its sender domain
is verified)."""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import parseaddr

from django.conf import settings

from whitelabel.email.selectors import sender_domain_sends
from whitelabel.models import Brand, SenderDomain


@dataclass(frozen=True)
class Sender:
    from_email: str
    reply_to: tuple[str, ...] = ()


def email_sender(*, brand: Brand | None, sender_domain: SenderDomain | None) -> Sender:
    """No brand: the platform's DEFAULT_FROM_EMAIL. A brand whose sender domain is verified and whose sender
    address is on it: that address, under the brand's sender name, replies to its support address. Otherwise
    (no domain, pending, failing, an address elsewhere): the platform's address under the brand's name, replies
    to the brand's support or sender address, so no mail claims a domain that has not proven it may."""
    if brand is None:
        return Sender(from_email=settings.DEFAULT_FROM_EMAIL)
    name = " ".join((brand.email_sender_name or brand.display_name).split())  # no line break into a header
    address = brand.email_sender_address.strip()
    support = brand.support_email.strip()
    if sender_domain_sends(sender_domain=sender_domain, address=address):
        reply_to = (support,) if support and support.lower() != address.lower() else ()
        return Sender(from_email=_mailbox(name, address), reply_to=reply_to)
    platform_address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    reply = support or address
    return Sender(from_email=_mailbox(name, platform_address), reply_to=(reply,) if reply else ())


def _mailbox(name: str, address: str) -> str:
    """`Name <address>`, the name quoted where it must be and left unencoded: Django encodes it for SMTP, and an
    ESP's API (anymail) takes it as text."""
    return str(Address(display_name=name, addr_spec=address))
