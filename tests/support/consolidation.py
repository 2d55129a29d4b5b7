"""Reseller mode (consolidated billing) for tests: a client billed through a payer, the instant in the month after
(when its month has closed), the payer's consolidated invoices, and what was emailed or charged about an invoice."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.core import mail

from billing.consolidation.services import consolidated_billing_start
from billing.models import BillingEmail, ConsolidatedBilling, Invoice
from metering.usage.selectors import month_bounds
from tenants.models import Tenant


def billed_through(client: Tenant, payer: Tenant, *, percent: str = "20", at: datetime) -> ConsolidatedBilling:
    """From `at`, the client is billed through `payer` at `percent` % off."""
    return consolidated_billing_start(client=client, payer=payer, wholesale_discount_percent=Decimal(percent), now=at)


def next_month(moment: datetime) -> datetime:
    """An hour into the month after `moment`'s (UTC): `moment`'s month has closed."""
    return month_bounds(moment)[1] + timedelta(hours=1)


def consolidated_invoices_of(payer: Tenant) -> list[Invoice]:
    return list(Invoice.objects.filter(tenant=payer, billing_reason=Invoice.Reason.CONSOLIDATED).order_by("pk"))


def emailed_about(invoice: Invoice) -> bool:
    """Whether an email about the invoice was recorded or sent (its number in the subject: a payer's invoice
    names its clients' invoices in its lines)."""
    recorded = BillingEmail.objects.filter(cause=f"invoice:{invoice.pk}").exists()
    return recorded or any(invoice.number in message.subject for message in mail.outbox)


def charged(stripe, invoice: Invoice) -> bool:
    """Whether the Stripe fake holds a PaymentIntent for the invoice."""
    return any(intent["metadata"].get("invoice_id") == str(invoice.pk) for intent in stripe.of_type("payment_intent"))
