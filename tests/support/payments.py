"""Payment test helpers: open invoices collected by Stripe, and tenants whose Stripe customer has a card."""

from __future__ import annotations

from decimal import Decimal

from billing.invoicing.services import invoice_finalize
from billing.invoicing.totals import invoice_totals_apply
from billing.models import Invoice, InvoiceLine
from billing.payments.services import card_setup_checkout_create, stripe_customer_ensure
from tenants.models import Tenant
from tests.support.clock import NOW
from devtools.stripe_fake import CARD_OK, FakeStripe


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


def card_saved(fake: FakeStripe, tenant: Tenant, deliver, last4: str = CARD_OK) -> dict:
    """The tenant saves a card on Stripe's Checkout page (setup mode) and Stripe tells us: checkout.session.completed
    (the card becomes the default, mirrored in dj-stripe's rows), then the customer.updated that change makes.
    `deliver(event)` posts an event to the webhook endpoint (with on-commit callbacks run). Returns the card."""
    session = card_setup_checkout_create(tenant=tenant, success_url="http://example.test/billing/",
                                         cancel_url="http://example.test/billing/")
    completed = fake.checkout_complete(session.id, last4=last4)
    deliver(fake.event("checkout.session.completed", completed["id"]))
    customer_id = completed["customer"]
    deliver(fake.event("customer.updated", customer_id,
                       previous_attributes={"invoice_settings": {"default_payment_method": None}}))
    return fake.get(fake.get(completed["setup_intent"])["payment_method"])
