"""An invoice's totals, from its saved lines and its tax fields: the one place that adds an invoice up.

Each line's `amount` is already rounded once to the currency's minor units, so the totals are plain sums of
rounded lines and a customer adding up the lines finds the total. Discount lines are negative amounts; the
discount total is shown as the positive amount taken off. Tax is computed once, on the rounded sum of the
taxable lines (discounts included, so tax is on what is charged), and rounded once:
- exclusive rate: tax = round(taxable × rate / 100), added to the total;
- inclusive rate: the prices already hold the tax, so the total is not raised and tax is the part of the
  taxable sum that is tax: round(taxable × rate / (100 + rate)).
A net credit (a negative taxable sum, e.g. a downgrade's proration) carries negative tax, so what goes back to
the tenant includes the tax it had paid on it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from billing.models import Invoice, InvoiceLine
from config.money import Money, money_round

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class InvoiceTotals:
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal


def invoice_totals_compute(*, invoice: Invoice, lines: list[InvoiceLine] | None = None) -> InvoiceTotals:
    """What the invoice's totals are for `lines` (its saved lines when not given); changes nothing."""
    if lines is None:
        # invoice_id too: the related manager sets each line's invoice, which would reload a deferred id per line.
        lines = list(invoice.lines.only("invoice_id", "kind", "amount", "taxable"))
    subtotal = sum((line.amount for line in lines if line.kind != InvoiceLine.Kind.DISCOUNT), Decimal(0))
    discounts = sum((line.amount for line in lines if line.kind == InvoiceLine.Kind.DISCOUNT), Decimal(0))
    taxable = sum((line.amount for line in lines if line.taxable), Decimal(0))
    tax = _tax(taxable=taxable, invoice=invoice)
    total = subtotal + discounts + (Decimal(0) if invoice.tax_inclusive else tax)
    return InvoiceTotals(subtotal=subtotal, discount_total=-discounts, tax_total=tax, total=total)


def invoice_totals_apply(*, invoice: Invoice) -> None:
    """Recompute the draft invoice's subtotal, discount total, tax total and total from its saved lines and save
    them. Call it after writing or removing lines. A finalised invoice is refused (ValueError): its totals are
    fixed, and the database would refuse the change anyway."""
    if invoice.status != Invoice.Status.DRAFT:
        raise ValueError(f"Invoice {invoice} is finalised: its totals cannot change.")
    totals = invoice_totals_compute(invoice=invoice)
    invoice.subtotal, invoice.discount_total = totals.subtotal, totals.discount_total
    invoice.tax_total, invoice.total = totals.tax_total, totals.total
    invoice.save(update_fields=["subtotal", "discount_total", "tax_total", "total", "updated_at"])


def _tax(*, taxable: Decimal, invoice: Invoice) -> Decimal:
    rate = invoice.tax_percentage
    if not rate:
        return Decimal(0)
    # One division, last, so that the exact tax is as exact as Decimal allows before the one rounding.
    tax = taxable * rate / (HUNDRED + rate if invoice.tax_inclusive else HUNDRED)
    return money_round(Money(tax, invoice.currency)).amount
