"""The demo's agency (affiliates/management/commands/agencies_demo_seed.py): northwind with two clients, bloom
(made a client by demo_seed) which gave northwind admin access and is on Starter, and fern, created through the
Clients service (its owner's invitation goes to the console) without access; then today's revenue snapshot and
churn scores, so the dashboard shows MRR, invoices, usage and health. A second run changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from accounts.models import Role
from affiliates.agencies.exceptions import AgencyError
from affiliates.agencies.selectors import agency_grant_history
from affiliates.agencies.services import agency_access_grant, agency_client_referral_bind, client_workspace_create
from billing.analytics.services import churn_risks_refresh, last_ended_day, revenue_snapshot_take
from billing.invoicing.selectors import invoice_list
from billing.invoicing.services import invoice_mark_paid
from billing.models import Invoice, Price
from billing.subscriptions.selectors import subscription_current
from billing.subscriptions.services import subscription_start
from tenants.models import Tenant

AGENCY = "northwind"
GRANTED_CLIENT = "bloom"
NEW_CLIENT = {"name": "Fern & Co", "slug": "fern", "owner_email": "owner@fern.test"}
CLIENT_PRICE = "starter-month-usd"
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
            if not agency_grant_history(client=bloom).exists():
                agency_access_grant(client=bloom, role=Role.ADMIN, actor_email=bloom.owner_email)
            if subscription_current(tenant=bloom) is None:
                started = now - timedelta(days=20)
                subscription_start(tenant=bloom, price=Price.objects.get(code=CLIENT_PRICE),
                                   actor=bloom.owner_email, now=started, trial=False)
                # Paid by bank transfer two days later: northwind earns its referral commission on it.
                for invoice in invoice_list(tenant=bloom).filter(status=Invoice.Status.OPEN):
                    invoice_mark_paid(invoice=invoice, actor=OPS, now=started + timedelta(days=2))
        done.append(f"{bloom.slug}: client of {agency.slug} on Starter (paid), gave it admin access")
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
