"""The dashboard's money figures reconcile with the invoices to the cent: what the snapshots say was issued,
credited and collected is what the invoice and credit-note tables add up to, month by month and in total."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Sum

from billing.analytics.selectors import revenue_months
from billing.models import CreditNote, Invoice

LAST_DAY = date(2026, 4, 30)
FINALISED = [Invoice.Status.OPEN, Invoice.Status.PAID, Invoice.Status.UNCOLLECTIBLE]

pytestmark = pytest.mark.django_db


def dashboard_total(currency: str, name: str) -> Decimal:
    return sum((getattr(figure, name) for figure in revenue_months(currency=currency, day=LAST_DAY)), Decimal(0))


@pytest.mark.parametrize("currency", ["USD", "EUR"])
def test_invoiced_is_the_sum_of_every_finalised_invoice_not_voided(history, currency):
    invoices = Invoice.objects.filter(currency=currency, status__in=FINALISED)
    assert invoices.exists()
    assert dashboard_total(currency, "invoiced") == invoices.aggregate(total=Sum("total"))["total"]


@pytest.mark.parametrize("currency", ["USD", "EUR"])
def test_cash_collected_is_the_sum_of_what_was_paid(history, currency):
    paid = Invoice.objects.filter(currency=currency, status=Invoice.Status.PAID)
    assert dashboard_total(currency, "cash_collected") == paid.aggregate(total=Sum("amount_paid"))["total"]


def test_each_month_reconciles_with_the_invoices_issued_and_paid_in_it(history):
    issued, paid = defaultdict(Decimal), defaultdict(Decimal)
    for invoice in Invoice.objects.filter(currency="USD", status__in=FINALISED):
        issued[invoice.issued_at.date().replace(day=1)] += invoice.total
        if invoice.status == Invoice.Status.PAID:
            paid[invoice.paid_at.date().replace(day=1)] += invoice.amount_paid
    figures = {figure.month: figure for figure in revenue_months(currency="USD", day=LAST_DAY)}
    for month in (date(2026, m, 1) for m in (1, 2, 3, 4)):
        assert (figures[month].invoiced, figures[month].cash_collected) == (issued[month], paid[month]), month


def test_credit_notes_and_net_invoiced_reconcile(history):
    credited = CreditNote.objects.filter(currency="USD").aggregate(total=Sum("amount"))["total"]
    invoiced = Invoice.objects.filter(currency="USD", status__in=FINALISED).aggregate(total=Sum("total"))["total"]
    assert dashboard_total("USD", "credited") == credited == Decimal("10.00")
    assert dashboard_total("USD", "net_invoiced") == invoiced - credited
