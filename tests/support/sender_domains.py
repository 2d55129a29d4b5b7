"""Brands that send email, and their sender domains' records published on the local DNS server (tests.support.dns)."""

from __future__ import annotations

from django.utils import timezone

from billing.models import Plan
from billing.services import tenant_plan_assign
from tenants.models import Tenant
from whitelabel.brands.services import brand_save
from whitelabel.email.selectors import sender_records
from whitelabel.models import Brand, SenderDomain

WHITE_LABEL_PLAN_CODE = "white-label"


def brand_make(tenant: Tenant, *, plan: Plan | None = None, **fields) -> Brand:
    """The tenant on `plan` (the White-Label plan by default) with a saved brand (display name from the tenant
    unless given)."""
    tenant_plan_assign(tenant=tenant, plan=plan or Plan.objects.get(code=WHITE_LABEL_PLAN_CODE))
    return brand_save(tenant=tenant, data={"display_name": f"{tenant.name} Brand", **fields}, now=timezone.now())


def records_publish(zone, sender: SenderDomain, **overrides: list[str]) -> None:
    """Publish the DKIM, SPF and DMARC records the page asks for; `dkim=[...]`, `spf=[...]` or `dmarc=[...]`
    publish other values instead (an empty list publishes none)."""
    for record in sender_records(sender):
        if record.key == "spf":
            # The SPF record lives on the domain itself, beside any other TXT the domain has.
            zone.record_set(record.name, "TXT", overrides.get("spf", [record.value, "google-site-verification=x"]))
        else:
            zone.record_set(record.name, "TXT", overrides.get(record.key, [record.value]))
