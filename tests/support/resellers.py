"""Reseller agencies for tests: an agency on the White-Label plan put in reseller mode by the agencies service
(so its clients are billed through it: billing.consolidation), 20 % wholesale discount by default; a client's
finalised Tollgate invoice, whose `invoice_consolidated` billing sends after commit (run here, as in production)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.test import TestCase

from affiliates.agencies.services import agency_earnings_set
from affiliates.models import AgencyProfile
from billing.invoicing.events import invoice_consolidated
from billing.invoicing.selectors import invoice_list
from billing.models import Invoice, Price, Subscription
from billing.subscriptions.services import subscription_start
from tenants.models import Tenant
from tests.support.agencies import agency_make

WHITE_LABEL_PLAN_CODE = "white-label"


def reseller_make(slug: str = "reseller-one", *, discount: str = "20", plan_code: str = WHITE_LABEL_PLAN_CODE,
                  mode: str = AgencyProfile.EarningsMode.RESELLER) -> Tenant:
    agency = agency_make(slug, plan_code=plan_code)
    agency_earnings_set(agency=agency, earnings_mode=mode, wholesale_discount_percent=Decimal(discount),
                        actor_email="ops@tollgate.test")
    return agency


def discount_set(agency: Tenant, discount: str) -> None:
    """Ops change the agency's wholesale discount (for the client invoices not carried yet)."""
    agency_earnings_set(agency=agency, earnings_mode=AgencyProfile.EarningsMode.RESELLER,
                        wholesale_discount_percent=Decimal(discount), actor_email="ops@tollgate.test")


def client_invoice_make(client: Tenant, *, price_code: str = "starter-month-usd", now: datetime, quantity: int = 1,
                        billing_anchor: str = Subscription.BillingAnchor.ANNIVERSARY) -> Invoice:
    """The client's start invoice for `price_code` (no trial), finalised by billing; what billing sends once it
    committed (invoice_consolidated for a client of a reseller) is sent."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        subscription_start(tenant=client, price=Price.objects.get(code=price_code), quantity=quantity,
                           actor=client.owner_email, now=now, trial=False, billing_anchor=billing_anchor)
    return invoice_list(tenant=client).exclude(status=Invoice.Status.DRAFT).first()


def consolidated_send(invoice: Invoice) -> None:
    """billing's invoice_consolidated for the invoice, again (a redelivery)."""
    invoice_consolidated.send(sender=Invoice, invoice=invoice)
