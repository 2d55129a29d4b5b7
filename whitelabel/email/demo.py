"""The demo's sending domain (whitelabel/management/commands/sender_domain_demo_seed.py, run by `./dev up` after the
reseller seed, which gives northwind its brand): northwind's brand sends from hello@northwind.test once the DKIM,
SPF and DMARC records are published in the file the local DNS server of `./dev up` serves (DEMO_DNS_RECORDS_FILE)
and checked through the real resolver. The run that verifies it sends northwind's owner one email, which the
console backend prints: the brand's layout, from the brand's own address. A second run changes nothing."""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path

from django.conf import settings

from config.mail import email_message, email_render
from tenants.models import Tenant
from tenants.urls_for import tenant_url
from whitelabel import dns
from whitelabel.brands.exceptions import BrandError
from whitelabel.brands.selectors import brand_own
from whitelabel.brands.services import brand_save
from whitelabel.email.exceptions import SenderDomainError
from whitelabel.email.selectors import sender_domain_for, sender_records
from whitelabel.email.services import sender_domain_check, sender_domain_set
from whitelabel.models import Brand, SenderDomain

AGENCY = "northwind"
DEMO_SENDER_DOMAIN = "northwind.test"
DEMO_SENDER = {"email_sender_name": "Northwind Digital", "email_sender_address": f"hello@{DEMO_SENDER_DOMAIN}"}
# How long to wait for the DNS server to serve a record just written (it polls its file every 0.2 s).
DNS_PUBLISH_WAIT_S = 5.0


def sender_domain_demo_seed(*, now: datetime) -> list[str]:
    """What it did, a line each (nothing when northwind or its brand is missing)."""
    northwind = Tenant.objects.filter(slug=AGENCY).first()
    brand = brand_own(tenant=northwind) if northwind else None
    if brand is None:
        return []
    try:
        brand = _sender_address(brand, now=now)
        sender = sender_domain_for(brand=brand) or sender_domain_set(brand=brand, domain=DEMO_SENDER_DOMAIN, now=now)
    except (BrandError, SenderDomainError) as error:
        return [f"{AGENCY}: no sending domain ({error.message})"]
    if sender.domain != DEMO_SENDER_DOMAIN or sender.status == SenderDomain.Status.VERIFIED:
        return []
    if settings.DEMO_DNS_RECORDS_FILE:
        _records_publish(Path(settings.DEMO_DNS_RECORDS_FILE), sender)
    sender = sender_domain_check(sender_domain=sender, now=now)
    if sender.status != SenderDomain.Status.VERIFIED:
        return [f"{sender.domain}: {sender.get_status_display().lower()} ({sender.last_check.get('result')})"]
    _email_send(northwind, brand)
    return [f"{sender.domain}: verified; northwind's emails come from {brand.email_sender_address} (one sent to "
            f"{northwind.owner_email}, printed by the console backend)"]


def _sender_address(brand: Brand, *, now: datetime) -> Brand:
    if brand.email_sender_address.lower().endswith(f"@{DEMO_SENDER_DOMAIN}"):
        return brand
    return brand_save(tenant=brand.tenant, data=DEMO_SENDER, now=now)


def _records_publish(path: Path, sender: SenderDomain) -> None:
    """Write the three TXT records into the records file (other names in it are kept), replacing it whole by a
    rename so the server never reads half a file; then wait until the server answers the DKIM key."""
    try:
        records = json.loads(path.read_text())
    except FileNotFoundError:
        records = {}
    for record in sender_records(sender):
        records.setdefault(record.name, {})["TXT"] = [record.value]
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as file:
        json.dump(records, file, indent=2, sort_keys=True)
    os.replace(file.name, path)
    dkim = sender_records(sender)[0]
    deadline = time.monotonic() + DNS_PUBLISH_WAIT_S
    while time.monotonic() < deadline:
        if dkim.value in dns.txt_records(dkim.name).values:
            return
        time.sleep(0.2)


def _email_send(northwind: Tenant, brand: Brand) -> None:
    context = {"title": "Your emails now come from your own domain",
               "body": f"{brand.display_name}'s emails are sent from {brand.email_sender_address}, under your "
                       "brand, now that its DKIM, SPF and DMARC records check out.",
               "link_url": tenant_url(northwind, "/settings/branding/")}
    email = email_render(schema_name=northwind.schema_name, subject=context["title"],
                         template="notifications/email/notification", context=context)
    email_message(schema_name=northwind.schema_name, email=email, to=[northwind.owner_email]).send()
