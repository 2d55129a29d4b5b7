"""Reseller agencies for tests: an agency on the White-Label plan in reseller mode (20 % wholesale discount by
default), its clients, a client's finalised Tollgate invoice, and that invoice announced as consolidated the way
billing announces it (the `invoice_consolidated` signal)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from affiliates.agencies.services import agency_profile_ensure
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
    profile = agency_profile_ensure(agency=agency)
    profile.earnings_mode, profile.wholesale_discount_percent = mode, Decimal(discount)
    profile.save(update_fields=["earnings_mode", "wholesale_discount_percent", "updated_at"])
    return agency


def client_invoice_make(client: Tenant, *, price_code: str = "starter-month-usd", now: datetime, quantity: int = 1,
                        billing_anchor: str = Subscription.BillingAnchor.ANNIVERSARY) -> Invoice:
    """The client's start invoice for `price_code` (no trial), finalised by billing."""
    subscription_start(tenant=client, price=Price.objects.get(code=price_code), quantity=quantity,
                       actor=client.owner_email, now=now, trial=False, billing_anchor=billing_anchor)
    return invoice_list(tenant=client).exclude(status=Invoice.Status.DRAFT).first()


def consolidated_send(invoice: Invoice) -> None:
    """What billing sends after committing a consolidated client invoice."""
    invoice_consolidated.send(sender=Invoice, invoice=invoice)

