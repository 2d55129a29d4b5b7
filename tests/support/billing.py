"""Billing test helpers: a catalogue, tenants' billing details, coupons and subscriptions started through the
services at a given instant, usage recorded at the clock's time, and `invoice_check`, the invoice checker every
end-to-end scenario runs on every invoice (Kill Bill's habit).

The checker recomputes an invoice from its own lines and tax fields, independently of billing.invoicing.totals,
so a scenario that only asserts lines still proves the totals add up:
- every line's amount is its amount_exact rounded once, half away from zero, to the currency's minor units;
- subtotal is the sum of the lines that are not discounts; discount_total the discounts' sum, shown positive;
- tax is the invoice's rate on the rounded sum of the taxable lines, rounded once (inclusive: the part of that sum
  that is tax, not added to the total);
- total = subtotal - discount_total (+ tax when exclusive); once finalised: credit_applied within what was owed,
  amount_due = max(total - credit_applied, 0), paid at once when nothing is due, and a number of the series'
  form in the year it was issued."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from itertools import count

from django.conf import settings
from django.utils import timezone

from billing.invoicing.services import invoice_mark_paid
from billing.models import (
    BillingProfile,
    Invoice,
    InvoiceLine,
    Price,
    PromotionCode,
    Subscription,
    TaxRate,
)
from billing.subscriptions.services import subscription_start
from config.money import currency_minor_units
from metering.models import Meter
from metering.usage.services import event_ingest
from tenants.models import Tenant
from tests.support.factories import (
    BillingProfileFactory,
    CouponFactory,
    PriceFactory,
    PromotionCodeFactory,
    TaxRateFactory,
    UsageChargeFactory,
)

ACTOR = "owner@billing.test"
Kind = InvoiceLine.Kind
_events = count(1)


# --- Catalogue and billing details --------------------------------------------------------------------------

def price_with_usage(*, charges: list[dict], **price_fields) -> Price:
    """A price (PriceFactory fields) and its usage charges, each a dict of UsageChargeFactory fields (a `meter`
    key is a Meter or a meter code)."""
    price = PriceFactory(**price_fields)
    for fields in charges:
        fields = dict(fields)
        meter = fields.pop("meter")
        UsageChargeFactory(price=price, meter_code=meter.code if isinstance(meter, Meter) else meter, **fields)
    return price


def tax_rate(*, percentage: str, country: str, region: str = "", inclusive: bool = False,
             name: str = "VAT") -> TaxRate:
    return TaxRateFactory(percentage=Decimal(percentage), country=country, region=region, inclusive=inclusive,
                          name=name)


def billing_profile(tenant: Tenant, **fields) -> BillingProfile:
    """The tenant's billing details (BillingProfileFactory fields: country, region, tax_id, tax_exempt, ...)."""
    return BillingProfileFactory(tenant=tenant, **fields)


def coupon_with_code(*, code: str, first_subscription_only: bool = False, code_max_redemptions: int | None = None,
                     **coupon_fields) -> PromotionCode:
    """A coupon (CouponFactory fields) and the promotion code customers type for it."""
    coupon = CouponFactory(**coupon_fields)
    return PromotionCodeFactory(coupon=coupon, code=code.upper(), first_subscription_only=first_subscription_only,
                                max_redemptions=code_max_redemptions)


# --- Subscriptions and usage --------------------------------------------------------------------------------

def subscription_started(tenant: Tenant, price: Price, *, at: datetime, quantity: int = 1, trial: bool = False,
                         promotion_code: str | None = None,
                         billing_anchor: str = Subscription.BillingAnchor.ANNIVERSARY) -> Subscription:
    """The tenant subscribed to `price` at `at` through the service (start invoice, trial and coupon included)."""
    return subscription_start(tenant=tenant, price=price, quantity=quantity, actor=ACTOR, now=at, trial=trial,
                              promotion_code=promotion_code, billing_anchor=billing_anchor)


def usage_record(tenant: Tenant, meter: Meter, *values: int | Decimal | str, at: datetime | None = None) -> None:
    """One event per value on `meter` (a count meter ignores the value; a unique-count meter takes strings),
    stamped `at` (default: the clock's now) and ingested as of that instant."""
    at = at or timezone.now()
    events = []
    for value in values:
        if meter.aggregation == Meter.Aggregation.COUNT:
            properties = {}
        else:
            # The events API takes JSON numbers: a Decimal arrives as the float it is sent as.
            properties = {meter.event_property: float(value) if isinstance(value, Decimal) else value}
        events.append({"transaction_id": f"scenario-{next(_events)}", "meter": meter.code,
                       "timestamp": at.isoformat(), "properties": properties})
    result = event_ingest(tenant=tenant, events=events, now=at)
    assert result.accepted == len(events) and not result.rejected, result.rejected


def calls_record(tenant: Tenant, meter: Meter, how_many: int, *, at: datetime | None = None) -> None:
    """`how_many` events on a count meter."""
    usage_record(tenant, meter, *([1] * how_many), at=at)


def invoices_of(tenant: Tenant) -> list[Invoice]:
    """The tenant's invoices in the order they were written."""
    return list(Invoice.objects.filter(tenant=tenant).order_by("created_at", "pk"))


def invoices_checked(tenant: Tenant) -> list[Invoice]:
    """The tenant's invoices in the order they were written, each through invoice_check."""
    return [invoice_check(invoice) for invoice in invoices_of(tenant)]


def invoice_pay(invoice: Invoice, *, at: datetime | None = None) -> Invoice:
    """Ops record the bank transfer for an open invoice."""
    return invoice_mark_paid(invoice=invoice, actor="ops@tollgate.test", now=at or timezone.now())


# --- The invoice checker ------------------------------------------------------------------------------------

def _round(amount: Decimal | int, currency: str) -> Decimal:
    return Decimal(amount).quantize(Decimal(1).scaleb(-currency_minor_units(currency)), rounding=ROUND_HALF_UP)


def amount_text(amount: Decimal, currency: str = "USD") -> str:
    """An amount as the scenarios write it: "12.34" (the currency's minor units)."""
    return format(_round(amount, currency), "f")


def invoice_lines(invoice: Invoice) -> list[tuple[str, str, str]]:
    """[(kind, description, amount as "12.34")] in the invoice's order."""
    return [(line.kind, line.description, amount_text(line.amount, invoice.currency))
            for line in invoice.lines.order_by("sort_order", "pk")]


def invoice_totals(invoice: Invoice) -> dict[str, str]:
    """The invoice's totals as "12.34" strings, for one compact assertion."""
    return {name: amount_text(getattr(invoice, name), invoice.currency)
            for name in ("subtotal", "discount_total", "tax_total", "total", "credit_applied", "amount_due")}


def totals_expected(total: str, *, subtotal: str | None = None, discount: str = "0.00", tax: str = "0.00",
                    credit: str = "0.00", due: str | None = None) -> dict[str, str]:
    """What invoice_totals should say; the subtotal defaults to the total (no discount, no exclusive tax) and the
    amount due to what the credit leaves of it."""
    due = due if due is not None else format(max(Decimal(total) - Decimal(credit), Decimal(0)), "f")
    return {"subtotal": subtotal or total, "discount_total": discount, "tax_total": tax, "total": total,
            "credit_applied": credit, "amount_due": due}


def invoice_check(invoice: Invoice) -> Invoice:
    """Assert the invoice is internally consistent (see the module docstring); returns it re-read."""
    invoice = Invoice.objects.get(pk=invoice.pk)
    currency = invoice.currency
    lines = list(invoice.lines.order_by("sort_order", "pk"))
    assert lines, f"invoice {invoice} has no lines"
    for line in lines:
        assert line.amount == _round(line.amount_exact, currency), (
            f"{line.description!r}: {line.amount} is not {line.amount_exact} rounded once")
        if line.kind == Kind.DISCOUNT:
            assert line.amount <= 0, f"discount line {line.description!r} is positive"
    subtotal = sum((line.amount for line in lines if line.kind != Kind.DISCOUNT), Decimal(0))
    discounts = sum((line.amount for line in lines if line.kind == Kind.DISCOUNT), Decimal(0))
    taxable = sum((line.amount for line in lines if line.taxable), Decimal(0))
    rate = invoice.tax_percentage
    if not rate:
        tax = Decimal(0)
    elif invoice.tax_inclusive:
        tax = _round(taxable * rate / (100 + rate), currency)
    else:
        tax = _round(taxable * rate / 100, currency)
    total = subtotal + discounts + (Decimal(0) if invoice.tax_inclusive else tax)
    assert (invoice.subtotal, invoice.discount_total, invoice.tax_total, invoice.total) == (
        subtotal, -discounts, tax, total), f"invoice {invoice}: totals do not add up from its lines"

    if invoice.status == Invoice.Status.DRAFT:
        assert invoice.number is None and invoice.issued_at is None
        assert (invoice.credit_applied, invoice.amount_due) == (0, 0)
        return invoice
    series = settings.BILLING_INVOICE_SERIES
    assert re.fullmatch(rf"{series}-{invoice.issued_at.year}-\d{{6}}", invoice.number or ""), invoice.number
    assert invoice.due_at is not None and invoice.due_at >= invoice.issued_at
    assert 0 <= invoice.credit_applied <= max(total, Decimal(0))
    assert invoice.amount_due == max(total - invoice.credit_applied, Decimal(0))
    if invoice.amount_due == 0 and invoice.status != Invoice.Status.VOID:
        assert invoice.status == Invoice.Status.PAID and invoice.amount_paid == 0
    if invoice.status == Invoice.Status.PAID:
        assert invoice.amount_paid == invoice.amount_due and invoice.paid_at is not None
    if invoice.status == Invoice.Status.OPEN:
        assert invoice.amount_due > 0 and invoice.amount_paid == 0
    return invoice
