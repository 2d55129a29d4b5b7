"""The invoice checker the scenarios rely on refuses what it must: a line rounded other than once half away from
zero, totals that do not add up from the lines, tax off by a cent, an amount due that ignores the credit applied,
and a finalised invoice without a number of the series' form."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from billing.models import Invoice, InvoiceLine
from tests.support.billing import invoice_check, invoice_lines, invoice_totals, totals_expected

D = Decimal
Kind = InvoiceLine.Kind
ISSUED = datetime(2026, 3, 1, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def invoice_with(tenant, lines: list[tuple[str, str, str]], **fields) -> Invoice:
    """An invoice written as given (kind, amount_exact, amount per line) behind the services' back: a draft with
    right totals unless `fields` say otherwise (a status other than draft is set after the lines, as
    finalisation does)."""
    amounts = [(kind, D(exact), D(rounded)) for kind, exact, rounded in lines]
    subtotal = sum((rounded for kind, _, rounded in amounts if kind != Kind.DISCOUNT), D(0))
    discounts = sum((rounded for kind, _, rounded in amounts if kind == Kind.DISCOUNT), D(0))
    values = {"subtotal": subtotal, "discount_total": -discounts, "total": subtotal + discounts, **fields}
    finalised = {name: values.pop(name) for name in ("status", "number", "issued_at", "due_at", "credit_applied",
                                                     "amount_due") if name in values}
    invoice = Invoice.objects.create(tenant=tenant, billing_reason=Invoice.Reason.MANUAL, currency="USD",
                                     created_at=ISSUED, **values)
    InvoiceLine.objects.bulk_create(
        InvoiceLine(invoice=invoice, kind=kind, description=f"Line {position}", amount_exact=exact, amount=rounded,
                    sort_order=position)
        for position, (kind, exact, rounded) in enumerate(amounts))
    if finalised:
        Invoice.objects.filter(pk=invoice.pk).update(**finalised)
    return Invoice.objects.get(pk=invoice.pk)


def test_a_consistent_invoice_passes_and_reads_back_compactly(tenant_alpha):
    invoice = invoice_with(tenant_alpha, [(Kind.FIXED, "99.00", "99.00"), (Kind.USAGE, "1.005", "1.01"),
                                          (Kind.DISCOUNT, "-10.0049", "-10.00")])

    invoice_check(invoice)

    assert invoice_lines(invoice) == [(Kind.FIXED, "Line 0", "99.00"), (Kind.USAGE, "Line 1", "1.01"),
                                      (Kind.DISCOUNT, "Line 2", "-10.00")]
    assert invoice_totals(invoice) == totals_expected("90.01", subtotal="100.01", discount="10.00", due="0.00")


@pytest.mark.parametrize("exact, rounded", [("1.005", "1.00"), ("-2.345", "-2.34"), ("0.3333", "0.34")],
                         ids=["half-to-even", "negative-half-toward-zero", "rounded-up"])
def test_a_line_not_rounded_once_half_away_from_zero_is_refused(tenant_alpha, exact, rounded):
    invoice = invoice_with(tenant_alpha, [(Kind.USAGE, exact, rounded)])

    with pytest.raises(AssertionError, match="rounded once"):
        invoice_check(invoice)


def test_totals_that_do_not_add_up_from_the_lines_are_refused(tenant_alpha):
    invoice = invoice_with(tenant_alpha, [(Kind.FIXED, "99.00", "99.00"), (Kind.DISCOUNT, "-9.90", "-9.90")],
                           discount_total=D("0"))

    with pytest.raises(AssertionError, match="totals do not add up"):
        invoice_check(invoice)


def test_tax_a_cent_off_the_rate_on_the_rounded_taxable_sum_is_refused(tenant_alpha):
    # 100.50 × 19 % = 19.095: 19.10 half away from zero, not 19.09.
    invoice = invoice_with(tenant_alpha, [(Kind.FIXED, "100.50", "100.50")], tax_percentage=D("19"),
                           tax_total=D("19.09"), total=D("119.59"))

    with pytest.raises(AssertionError, match="totals do not add up"):
        invoice_check(invoice)


def test_an_amount_due_that_ignores_the_credit_applied_is_refused(tenant_alpha):
    invoice = invoice_with(tenant_alpha, [(Kind.FIXED, "99.00", "99.00")], status=Invoice.Status.OPEN,
                           number="TG-2026-000001", issued_at=ISSUED, due_at=ISSUED + timedelta(days=14),
                           credit_applied=D("30.00"), amount_due=D("99.00"))

    with pytest.raises(AssertionError):
        invoice_check(invoice)


def test_a_finalised_invoice_numbered_outside_the_series_is_refused(tenant_alpha):
    invoice = invoice_with(tenant_alpha, [(Kind.FIXED, "99.00", "99.00")], status=Invoice.Status.OPEN,
                           number="TG-2025-000001", issued_at=ISSUED, due_at=ISSUED + timedelta(days=14),
                           amount_due=D("99.00"))

    with pytest.raises(AssertionError, match="TG-2025-000001"):
        invoice_check(invoice)
