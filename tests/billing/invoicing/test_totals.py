"""An invoice adds up from its rounded lines; tax is computed once on the taxable sum and rounded once."""

from decimal import Decimal

import pytest

from billing.invoicing.totals import invoice_totals_apply
from billing.models import Invoice, InvoiceLine
from tests.support.clock import NOW

Kind = InvoiceLine.Kind


def invoice_with(tenant, *lines: tuple, currency: str = "USD", tax: str | None = None,
                 inclusive: bool = False) -> Invoice:
    """A draft invoice with (kind, amount[, taxable]) lines, its totals applied and read back."""
    invoice = Invoice.objects.create(tenant=tenant, billing_reason=Invoice.Reason.MANUAL, currency=currency,
                                     tax_percentage=Decimal(tax) if tax else None, tax_inclusive=inclusive,
                                     created_at=NOW)
    for n, (kind, amount, *taxable) in enumerate(lines):
        InvoiceLine.objects.create(invoice=invoice, kind=kind, description=f"Line {n + 1}",
                                   amount_exact=Decimal(amount), amount=Decimal(amount),
                                   taxable=taxable[0] if taxable else True, sort_order=n)
    invoice_totals_apply(invoice=invoice)
    invoice.refresh_from_db()
    return invoice


def totals(invoice: Invoice) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    return invoice.subtotal, invoice.discount_total, invoice.tax_total, invoice.total


def test_without_tax_the_total_is_the_sum_of_the_lines(tenant_alpha):
    invoice = invoice_with(tenant_alpha, (Kind.FIXED, "99.00"), (Kind.USAGE, "2.35"), (Kind.SEATS, "20.00"))

    assert totals(invoice) == (Decimal("121.35"), 0, 0, Decimal("121.35"))


def test_a_discount_is_shown_as_the_amount_taken_off(tenant_alpha):
    invoice = invoice_with(tenant_alpha, (Kind.FIXED, "99.00"), (Kind.DISCOUNT, "-9.90"))

    assert totals(invoice) == (Decimal("99.00"), Decimal("9.90"), 0, Decimal("89.10"))


def test_exclusive_tax_is_added_on_the_discounted_subtotal(tenant_alpha):
    invoice = invoice_with(tenant_alpha, (Kind.FIXED, "100.00"), (Kind.DISCOUNT, "-10.00"), tax="23")

    assert totals(invoice) == (Decimal("100.00"), Decimal("10.00"), Decimal("20.70"), Decimal("110.70"))


def test_tax_is_rounded_once_on_the_sum_not_per_line(tenant_alpha):
    # Per line, 10 % of 0.05 is 0.005 and would round to 0.01 three times (0.03); on the sum it is 0.015.
    invoice = invoice_with(tenant_alpha, (Kind.USAGE, "0.05"), (Kind.USAGE, "0.05"), (Kind.USAGE, "0.05"), tax="10")

    assert invoice.tax_total == Decimal("0.02")


def test_tax_rounds_half_away_from_zero(tenant_alpha):
    invoice = invoice_with(tenant_alpha, (Kind.FIXED, "1.25"), tax="10")

    assert (invoice.tax_total, invoice.total) == (Decimal("0.13"), Decimal("1.38"))


def test_inclusive_tax_is_the_part_of_the_total_that_is_tax(tenant_alpha):
    # 19.99 × 19 / 119 = 3.1916…
    invoice = invoice_with(tenant_alpha, (Kind.FIXED, "19.99"), tax="19", inclusive=True)

    assert totals(invoice) == (Decimal("19.99"), 0, Decimal("3.19"), Decimal("19.99"))


def test_lines_that_are_not_taxable_are_left_out_of_the_tax_base(tenant_alpha):
    invoice = invoice_with(tenant_alpha, (Kind.FIXED, "100.00"), (Kind.ONE_TIME, "50.00", False), tax="20")

    assert (invoice.tax_total, invoice.total) == (Decimal("20.00"), Decimal("170.00"))


def test_a_net_credit_carries_negative_tax(tenant_alpha):
    invoice = invoice_with(tenant_alpha, (Kind.PRORATION, "-30.00"), (Kind.PRORATION, "20.00"), tax="20")

    assert totals(invoice) == (Decimal("-10.00"), 0, Decimal("-2.00"), Decimal("-12.00"))


def test_a_currency_without_minor_units_rounds_tax_to_whole_units(tenant_alpha):
    invoice = invoice_with(tenant_alpha, (Kind.FIXED, "1005"), currency="JPY", tax="10")

    assert (invoice.tax_total, invoice.total) == (Decimal("101"), Decimal("1106"))


def test_an_invoice_without_lines_adds_up_to_zero(tenant_alpha):
    assert totals(invoice_with(tenant_alpha, tax="20")) == (0, 0, 0, 0)


def test_a_finalised_invoices_totals_are_not_recomputed(tenant_alpha):
    invoice = invoice_with(tenant_alpha, (Kind.FIXED, "10.00"))
    invoice.status = Invoice.Status.OPEN

    with pytest.raises(ValueError):
        invoice_totals_apply(invoice=invoice)
