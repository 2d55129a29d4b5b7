"""The demo's reseller portal (whitelabel/management/commands/portal_demo_seed.py, run by `./dev up` after the
custom-domain and reseller seeds): the wildcard record `*.portal.northwind.localhost` published in the file the
local DNS server of `./dev up` serves (DEMO_DNS_RECORDS_FILE) and checked through the real resolver, so northwind's
clients get their hosts (bloom.portal.northwind.localhost, which browsers send to 127.0.0.1 on their own); and a
landing text on northwind's brand when it has none. A second run changes nothing."""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import time
from datetime import datetime
from pathlib import Path

from django.conf import settings

from tenants.models import Tenant
from whitelabel import dns
from whitelabel.brands.exceptions import BrandError
from whitelabel.brands.selectors import brand_own
from whitelabel.portals.selectors import WildcardRecord, client_hosts, portal_domains, wildcard_record
from whitelabel.portals.services import portal_landing_save, portal_wildcard_check

AGENCY = "northwind"
LANDING_TITLE = "AI services for your business, run by Northwind Digital"
LANDING_TEXT = ("Pick a plan, create your workspace in a minute and start using AI services for writing, code and "
                "reports.\n\nQuestions? Our team answers within a working day.")
# How long to wait for the DNS server to serve a record just written (it polls its file every 0.2 s).
DNS_PUBLISH_WAIT_S = 5.0


def portal_demo_seed(*, now: datetime) -> list[str]:
    """What it did, a line each (nothing when northwind is missing)."""
    northwind = Tenant.objects.filter(slug=AGENCY).first()
    if northwind is None:
        return []
    done = []
    for domain in portal_domains(agency=northwind):
        record = wildcard_record(domain)
        if settings.DEMO_DNS_RECORDS_FILE:
            _wildcard_publish(Path(settings.DEMO_DNS_RECORDS_FILE), record)
        if not record.ok:
            domain = portal_wildcard_check(domain_id=domain.pk, now=now)
        state = "verified" if wildcard_record(domain).ok else "not verified"
        done.append(f"{record.name} CNAME {record.target}: {state}")
    if not done:
        done.append(f"{AGENCY} has no routed custom domain: no client hosts")
    hosts = [host for client in Tenant.objects.filter(parent_agency=northwind) for host in client_hosts(client=client)]
    if hosts:
        done.append(f"client hosts: {', '.join(hosts)}")
    done.extend(_landing_text(northwind, now=now))
    return done


def _landing_text(northwind: Tenant, *, now: datetime) -> list[str]:
    brand = brand_own(tenant=northwind)
    if brand is not None and brand.landing_title:
        return []
    try:
        portal_landing_save(agency=northwind, landing_title=LANDING_TITLE, landing_text=LANDING_TEXT, now=now)
    except BrandError as error:
        return [f"landing text not set ({error.message})"]
    return ["landing text set on northwind's brand"]


def _wildcard_publish(path: Path, record: WildcardRecord) -> None:
    """Add the wildcard CNAME to the records file (other names kept), replaced whole by a rename so the server never
    reads half a file; then wait until a random name under it resolves."""
    try:
        records = json.loads(path.read_text())
    except FileNotFoundError:
        records = {}
    wanted = {"CNAME": [record.target]}
    if records.get(record.name) == wanted:
        return
    records[record.name] = wanted
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as file:
        json.dump(records, file, indent=2, sort_keys=True)
    os.replace(file.name, path)
    probe = f"demo-{secrets.token_hex(4)}.{record.name.removeprefix('*.')}"
    deadline = time.monotonic() + DNS_PUBLISH_WAIT_S
    while time.monotonic() < deadline:
        if record.target in dns.cname_target(probe).values:
            return
        time.sleep(0.2)
