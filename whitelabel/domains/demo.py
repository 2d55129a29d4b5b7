"""The demo's custom domain (whitelabel/management/commands/whitelabel_demo_seed.py, run by `./dev up` after the
agencies seed): northwind, moved to the White-Label plan if it is not on it, claims portal.northwind.localhost,
publishes its records in the file the local DNS server of `./dev up` serves (DEMO_DNS_RECORDS_FILE), and checks it
through the real resolver (DNS_RESOLVER_NAMESERVERS points at that server), so it ends active and routes.
Browsers send every *.localhost name to 127.0.0.1 on their own: http://portal.northwind.localhost:8000/ opens
northwind's workspace with no DNS change. A second run changes nothing (the records are published again if the
file lost them)."""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path

from django.conf import settings

from billing.errors import BillingError
from billing.models import Plan, Price
from billing.services import tenant_plan_assign
from billing.subscriptions.selectors import subscription_current
from billing.subscriptions.services import subscription_change
from tenants.models import Tenant
from whitelabel import dns
from whitelabel.domains.exceptions import CustomDomainError
from whitelabel.domains.selectors import custom_domains_offered, domain_list, domain_records
from whitelabel.domains.services import domain_check, domain_claim
from whitelabel.models import CustomDomain

AGENCY = "northwind"
DEMO_HOSTNAME = "portal.northwind.localhost"
WHITE_LABEL_PLAN, WHITE_LABEL_PRICE = "white-label", "white-label-month-usd"
OPS = "ops@tollgate.localhost"
# How long to wait for the DNS server to serve a record just written (it polls its file every 0.2 s).
DNS_PUBLISH_WAIT_S = 5.0


def whitelabel_demo_seed(*, now: datetime) -> list[str]:
    """What it did, a line each (nothing when northwind is missing)."""
    northwind = Tenant.objects.filter(slug=AGENCY).first()
    if northwind is None:
        return []
    done = []
    if not custom_domains_offered(tenant=northwind):
        done.append(_white_label_plan(northwind, now=now))
    domain = domain_list(tenant=northwind, held_only=True).filter(hostname=DEMO_HOSTNAME).first()
    if domain is None:
        try:
            domain = domain_claim(tenant=northwind, hostname=DEMO_HOSTNAME, now=now)
        except CustomDomainError as error:
            return [*done, f"{DEMO_HOSTNAME}: not claimed ({error.message})"]
    if settings.DEMO_DNS_RECORDS_FILE:
        _records_publish(Path(settings.DEMO_DNS_RECORDS_FILE), domain)
    if domain.status != CustomDomain.Status.ACTIVE:
        domain = domain_check(domain=domain, now=now)
    reasons = ", ".join(domain.last_check.get("reasons", []))
    done.append(f"{domain.hostname}: {domain.get_status_display().lower()} for {AGENCY}"
                + (f" ({reasons})" if reasons else ""))
    return done


def _white_label_plan(tenant: Tenant, *, now: datetime) -> str:
    """Upgrade the tenant's subscription to White-Label now (prorated, like the Billing page's upgrade), or assign
    the plan when it has no subscription."""
    subscription = subscription_current(tenant=tenant)
    if subscription is None:
        tenant_plan_assign(tenant=tenant, plan=Plan.objects.get(code=WHITE_LABEL_PLAN))
        return f"{tenant.slug}: on the White-Label plan"
    try:
        subscription_change(subscription=subscription, price=Price.objects.get(code=WHITE_LABEL_PRICE), actor=OPS,
                            now=now)
    except BillingError as error:
        return f"{tenant.slug}: not moved to White-Label ({error.message})"
    return f"{tenant.slug}: upgraded to White-Label (prorated)"


def _records_publish(path: Path, domain: CustomDomain) -> None:
    """Write the domain's TXT and CNAME into the records file (other names in it are kept), replacing it whole by
    a rename so the server never reads half a file; then wait until the server answers the token."""
    expected = domain_records(domain)
    try:
        records = json.loads(path.read_text())
    except FileNotFoundError:
        records = {}
    wanted = {expected.challenge_name: {"TXT": [expected.challenge_value]},
              expected.cname_name: {"CNAME": [expected.cname_target]}}
    if all(records.get(name) == value for name, value in wanted.items()):
        return
    records.update(wanted)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as file:
        json.dump(records, file, indent=2, sort_keys=True)
    os.replace(file.name, path)
    deadline = time.monotonic() + DNS_PUBLISH_WAIT_S
    while time.monotonic() < deadline:
        if expected.challenge_value in dns.txt_records(expected.challenge_name).values:
            return
        time.sleep(0.2)
