"""The demo's agency (affiliates/management/commands/agencies_demo_seed.py): northwind, a reseller (consolidated
billing at 20 % off), with two clients: bloom (made a client by demo_seed) which gave northwind admin access and
is on Starter since last month, and fern, created through the Clients service (its owner's invitation goes to the
console) without access. Last month's consolidated invoice carries bloom's invoice at wholesale and is paid by
transfer (which settles bloom's; as a reseller, northwind earns no commission on it). Then today's revenue
snapshot and churn scores, so the dashboard shows MRR, invoices, usage, health and the consolidated invoice. A
second run changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction

from accounts.models import Role
from affiliates.agencies.exceptions import AgencyError
from affiliates.agencies.selectors import agency_grant_history
from affiliates.agencies.services import (
    agency_access_grant,
    agency_client_referral_bind,
    agency_earnings_set,
    client_workspace_create,
)
from affiliates.models import AgencyProfile
from billing.analytics.services import churn_risks_refresh, last_ended_day, revenue_snapshot_take
from billing.consolidation.selectors import consolidated_invoice_list
from billing.consolidation.services import consolidated_invoices_issue
from billing.invoicing.services import invoice_mark_paid
from billing.models import Invoice, Price
from billing.subscriptions.selectors import subscription_current
from billing.subscriptions.services import subscription_start
from metering.usage.selectors import month_bounds
from tenants.models import Tenant

AGENCY = "northwind"
GRANTED_CLIENT = "bloom"
NEW_CLIENT = {"name": "Fern & Co", "slug": "fern", "owner_email": "owner@fern.test"}
CLIENT_PRICE = "starter-month-usd"
WHOLESALE_DISCOUNT = Decimal("20")
OPS = "ops@tollgate.localhost"


def agencies_demo_seed(*, now: datetime) -> list[str]:
    """What it did, a line each (nothing when the demo tenants are missing)."""
    agency = Tenant.objects.filter(slug=AGENCY, type=Tenant.Type.AGENCY).first()
    if agency is None:
        return []
    done = []
    bloom = Tenant.objects.filter(slug=GRANTED_CLIENT, parent_agency=agency).first()
    if bloom is not None:
        with transaction.atomic():
            agency_client_referral_bind(agency=agency, client=bloom)
            agency_earnings_set(agency=agency, earnings_mode=AgencyProfile.EarningsMode.RESELLER,
                                wholesale_discount_percent=WHOLESALE_DISCOUNT, actor_email=OPS)
            if not agency_grant_history(client=bloom).exists():
                agency_access_grant(client=bloom, role=Role.ADMIN, actor_email=bloom.owner_email)
            if subscription_current(tenant=bloom) is None:
                # Within last month, whatever today is: its invoice is consolidated into last month's.
                started = month_bounds(now)[0] - timedelta(days=10)
                subscription_start(tenant=bloom, price=Price.objects.get(code=CLIENT_PRICE),
                                   actor=bloom.owner_email, now=started, trial=False)
        done.append(f"{bloom.slug}: client of {agency.slug} (a reseller) on Starter, gave it admin access")
        done += _consolidated_invoice_paid(agency, now=now)
    try:
        created = client_workspace_create(agency=agency, actor_email=agency.owner_email, **NEW_CLIENT)
    except AgencyError as error:
        done.append(f"{NEW_CLIENT['slug']}: not created ({error.message})")
    else:
        done.append(f"{created.client.slug}: client of {agency.slug}, owner invited, no access")
    day = last_ended_day(now)
    revenue_snapshot_take(day=day, now=now)
    churn_risks_refresh(day=day)
    return done


def _consolidated_invoice_paid(agency: Tenant, *, now: datetime) -> list[str]:
    """Last month's consolidated invoice of the agency (issued by the hourly job's service), paid by transfer:
    bloom's invoice is settled through it."""
    consolidated_invoices_issue(now=now)
    done = []
    for invoice in consolidated_invoice_list(payer=agency).filter(status=Invoice.Status.OPEN):
        invoice_mark_paid(invoice=invoice, actor=OPS, now=now)
        done.append(f"{agency.slug}: consolidated invoice {invoice.number} ({invoice.total} {invoice.currency}) "
                    "paid by transfer")
    return done
