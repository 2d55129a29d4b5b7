"""Payment test helpers: open invoices collected by Stripe, and tenants whose Stripe customer has a card."""

from __future__ import annotations

from decimal import Decimal

from billing.invoicing.services import invoice_finalize
from billing.invoicing.totals import invoice_totals_apply
from billing.models import Invoice, InvoiceLine
from billing.payments.services import stripe_customer_ensure
from tenants.models import Tenant
from tests.support.clock import NOW
from tests.support.stripe_fake import CARD_OK, FakeStripe


def stripe_invoice(tenant: Tenant, amount: str = "25.00", *, currency: str = "USD",
                   collection_method: str = "stripe") -> Invoice:
    """An open invoice of one line for `amount`, finalised (numbered, amount due set) as of NOW."""
    invoice = Invoice.objects.create(tenant=tenant, billing_reason=Invoice.Reason.MANUAL, currency=currency,
                                     collection_method=collection_method, created_at=NOW)
    InvoiceLine.objects.create(invoice=invoice, kind=InvoiceLine.Kind.FIXED, description="Pro plan",
                               amount_exact=Decimal(amount), amount=Decimal(amount))
    invoice_totals_apply(invoice=invoice)
    return invoice_finalize(invoice=invoice, now=NOW)


def card_on_file(fake: FakeStripe, tenant: Tenant, last4: str = CARD_OK) -> dict:
    """The tenant's Stripe customer (created if needed) with a saved default card ending in `last4`."""
    customer = stripe_customer_ensure(tenant=tenant)
    return fake.card_attach(customer.id, last4)
