"""Set-up shared by the payment benchmarks (bench/webhooks.py, bench/collection.py): Stripe turned on against a
running fake, tenants whose Stripe customer has a saved card, and open invoices collected by Stripe, written in
bulk (finalising them one by one would take minutes and enqueue their charges before the bench is ready)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.test import override_settings

from billing.models import Invoice, InvoiceLine
from billing.payments.services import STRIPE_COLLECTION, stripe_customer_ensure
from devtools.stripe_fake import TEST_SECRET_KEY, WEBHOOK_SECRET, FakeStripeServer
from tenants.models import Tenant


def stripe_environment(server: FakeStripeServer) -> dict[str, str]:
    """What a server or worker process needs in its environment to reach the fake (the settings read these)."""
    return {"STRIPE_SECRET_KEY": TEST_SECRET_KEY, "STRIPE_API_BASE": server.url,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_MAX_NETWORK_RETRIES": "0"}


@contextmanager
def stripe_on(server: FakeStripeServer) -> Iterator[None]:
    """This process's settings pointed at the fake (override_settings, so the SDK's globals follow)."""
    with override_settings(STRIPE_SECRET_KEY=TEST_SECRET_KEY, STRIPE_API_BASE=server.url,
                           STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, STRIPE_MAX_NETWORK_RETRIES=0):
        yield


@dataclass(frozen=True)
class CardHolder:
    tenant: Tenant
    customer_id: str
    card_id: str


def tenants_with_cards_create(server: FakeStripeServer, *, count: int, prefix: str) -> list[CardHolder]:
    """`count` tenant rows (no schemas: charging and settling never enter one), each with its Stripe customer
    (created through the fake, as on a first paid action) and a default card that pays."""
    tenants = Tenant.objects.bulk_create(
        Tenant(schema_name=f"{prefix}_{n}", name=f"Bench {n}", slug=f"{prefix}-{n}",
               billing_email=f"billing{n}@example.com")
        for n in range(count))
    holders = []
    for tenant in tenants:
        customer_id = stripe_customer_ensure(tenant=tenant).id
        holders.append(CardHolder(tenant, customer_id, server.fake.card_attach(customer_id)["id"]))
    return holders


def stripe_invoices_create(tenants: list[Tenant], *, count: int, series: str, now: datetime) -> list[Invoice]:
    """`count` open invoices spread over the tenants, as invoice_finalize leaves them (numbered, issued, amount
    due set), collected by Stripe, one fixed line each, amounts from 10.01 to 99.99 USD."""
    drafts = []
    for n in range(count):
        amount = Decimal(10 + n % 90) + Decimal(1 + n % 99) / 100
        drafts.append(Invoice(
            tenant=tenants[n % len(tenants)], billing_reason=Invoice.Reason.MANUAL, currency="USD", subtotal=amount,
            total=amount, amount_due=amount, collection_method=STRIPE_COLLECTION,
            issuer=dict(settings.BILLING_ISSUER), issued_at=now, due_at=now + timedelta(days=14), created_at=now))
    invoices = Invoice.objects.bulk_create(drafts)
    # Lines while the invoices are drafts: a finalised invoice's lines cannot change (a trigger says so).
    InvoiceLine.objects.bulk_create(
        InvoiceLine(invoice=invoice, kind=InvoiceLine.Kind.FIXED, description="Pro plan",
                    amount_exact=invoice.amount_due, amount=invoice.amount_due)
        for invoice in invoices)
    for n, invoice in enumerate(invoices):
        invoice.status, invoice.number = Invoice.Status.OPEN, f"{series}-{now.year}-{n + 1:06d}"
    Invoice.objects.bulk_update(invoices, ["status", "number"], batch_size=1000)
    return invoices
