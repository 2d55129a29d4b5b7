"""The payer's consolidated invoice: once a calendar month has closed, one invoice per payer and currency carrying
the consolidated client invoices finalised in it, a line each at wholesale (the amount before tax less the
discount, rounded once per line, half away from zero), taxed as the payer's; exactly once (a rerun, two runs at
once); paid, it settles the client invoices (no email, no money from the client); voided, it releases them."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from billing.consolidation.services import consolidated_invoices_issue
from billing.invoicing.credit import account_credit_add
from billing.invoicing.events import invoice_consolidated
from billing.invoicing.services import invoice_void
from billing.models import AccountCreditEntry, Invoice, InvoiceLine
from config.money import Money
from tests.support.billing import billing_profile, invoice_pay, tax_rate
from tests.support.clock import NOW
from tests.support.concurrency import run_together
from tests.support.consolidation import (
    billed_through,
    consolidated_invoices_of,
    emailed_about,
    next_month,
)
from tests.support.factories import TenantFactory
from tests.support.payments import stripe_invoice
from tests.support.tenants import tenant_purge

D = Decimal
IN_OCTOBER = datetime(2026, 10, 5, 9, tzinfo=UTC)


@pytest.fixture
def client_invoices(tenant_alpha, tenant_beta, committed):
    """Alpha billed through beta at 15 % off since October, with four invoices issued on 20 November: 99.00, 33.33,
    0.10 and a credit of -0.10."""
    billed_through(tenant_alpha, tenant_beta, percent="15", at=IN_OCTOBER)
    return [committed(stripe_invoice, tenant_alpha, amount, collection_method="manual")
            for amount in ("99.00", "33.33", "0.10", "-0.10")]


def line_amounts(invoice: Invoice) -> list[tuple[int, str]]:
    return [(line.source_invoice_id, str(line.amount))
            for line in invoice.lines.order_by("sort_order", "pk")]


def test_the_payers_invoice_carries_each_client_invoice_at_wholesale_rounded_once_per_line(client_invoices,
                                                                                            tenant_beta, committed):
    result = committed(consolidated_invoices_issue, now=next_month(NOW))

    [invoice] = consolidated_invoices_of(tenant_beta)
    assert (result.invoices_created, result.invoices_carried) == (1, 4)
    # 99.00 × 0.85 = 84.15; 33.33 × 0.85 = 28.3305 → 28.33; 0.10 × 0.85 = 0.085 → 0.09 and -0.085 → -0.09 (half
    # away from zero, each line once).
    assert line_amounts(invoice) == [(client_invoices[0].pk, "84.1500"), (client_invoices[1].pk, "28.3300"),
                                     (client_invoices[2].pk, "0.0900"), (client_invoices[3].pk, "-0.0900")]
    assert {line.kind for line in invoice.lines.all()} == {InvoiceLine.Kind.CONSOLIDATED}
    assert (invoice.total, invoice.currency, invoice.billing_reason) == (D("112.48"), "USD", "consolidated")
    assert (invoice.period_start, invoice.period_end) == (datetime(2026, 11, 1, tzinfo=UTC),
                                                         datetime(2026, 12, 1, tzinfo=UTC))
    assert invoice.status == Invoice.Status.OPEN and invoice.due_at is not None
    assert all(client_invoice.number in line.description
               for client_invoice, line in zip(client_invoices, invoice.lines.order_by("sort_order"), strict=True))


def test_the_payers_invoice_is_taxed_as_the_payers_and_emailed_to_it(client_invoices, tenant_beta, committed):
    tax_rate(percentage="10", country="NZ", name="GST")
    billing_profile(tenant_beta, country="NZ")

    committed(consolidated_invoices_issue, now=next_month(NOW))

    [invoice] = consolidated_invoices_of(tenant_beta)
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (D("112.48"), D("11.25"), D("123.73"))
    assert emailed_about(invoice)


def test_the_month_still_open_is_not_invoiced_yet(client_invoices, tenant_beta, committed):
    committed(consolidated_invoices_issue, now=NOW + timedelta(days=5))

    assert consolidated_invoices_of(tenant_beta) == []


def test_a_rerun_creates_nothing(client_invoices, tenant_beta, committed):
    committed(consolidated_invoices_issue, now=next_month(NOW))
    again = committed(consolidated_invoices_issue, now=next_month(NOW) + timedelta(days=3))

    assert (again.invoices_created, len(consolidated_invoices_of(tenant_beta))) == (0, 1)


def test_one_invoice_per_currency_and_month(tenant_alpha, tenant_beta, committed):
    billed_through(tenant_alpha, tenant_beta, at=IN_OCTOBER)
    committed(stripe_invoice, tenant_alpha, "10.00", currency="USD", collection_method="manual")
    committed(stripe_invoice, tenant_alpha, "20.00", currency="EUR", collection_method="manual")

    committed(consolidated_invoices_issue, now=next_month(NOW))

    assert sorted((i.currency, i.total) for i in consolidated_invoices_of(tenant_beta)) == [
        ("EUR", D("16.00")), ("USD", D("8.00"))]


def test_paying_the_payers_invoice_settles_the_client_invoices_without_a_word_to_the_client(
        client_invoices, tenant_beta, committed):
    committed(consolidated_invoices_issue, now=next_month(NOW))
    [invoice] = consolidated_invoices_of(tenant_beta)

    committed(invoice_pay, invoice, at=next_month(NOW) + timedelta(days=2))

    for client_invoice in client_invoices:
        client_invoice.refresh_from_db()
        assert (client_invoice.status, client_invoice.amount_paid) == (Invoice.Status.PAID, 0)
        assert client_invoice.paid_at == next_month(NOW) + timedelta(days=2)
        assert not emailed_about(client_invoice)


def test_voiding_the_payers_invoice_lets_the_next_run_carry_its_client_invoices_again(client_invoices, tenant_beta,
                                                                                      committed):
    committed(consolidated_invoices_issue, now=next_month(NOW))
    [voided] = consolidated_invoices_of(tenant_beta)
    committed(invoice_void, invoice=voided, actor="ops@tollgate.test", now=next_month(NOW))

    committed(consolidated_invoices_issue, now=next_month(NOW) + timedelta(hours=1))

    [_, reissued] = consolidated_invoices_of(tenant_beta)
    assert reissued.total == D("112.48")
    assert {c.consolidated_into_id for c in Invoice.objects.filter(pk__in=[c.pk for c in client_invoices])} == {
        reissued.pk}


@pytest.fixture
def racing(committed_db, monkeypatch):
    """A client and its payer, committed, with one consolidated invoice of November; purged afterwards, the
    client first. What white-label does with invoice_consolidated is not this test's: the signal is not sent."""
    monkeypatch.setattr(invoice_consolidated, "send", lambda *args, **kwargs: [])
    client, payer = TenantFactory(slug="race-client"), TenantFactory(slug="race-payer")
    billed_through(client, payer, at=IN_OCTOBER)
    stripe_invoice(client, "50.00", collection_method="manual")
    yield client, payer
    connection.set_schema_to_public()
    tenant_purge(client)
    tenant_purge(payer)


def test_two_runs_at_once_issue_one_invoice(racing):
    client, payer = racing

    def run():
        return consolidated_invoices_issue(now=next_month(NOW))

    outcomes = run_together(run, run)

    assert sorted(outcome.invoices_created for outcome in outcomes) == [0, 1]
    [invoice] = consolidated_invoices_of(payer)
    assert invoice.lines.count() == 1 and invoice.total == D("40.00")


def test_a_payers_invoice_its_account_credit_pays_at_once_settles_the_client_invoices(client_invoices, tenant_beta,
                                                                                     committed):
    account_credit_add(tenant=tenant_beta, amount=Money(D("500.00"), "USD"), kind=AccountCreditEntry.Kind.PROMOTION,
                       description="Launch credit", actor="ops@tollgate.test", now=NOW)

    committed(consolidated_invoices_issue, now=next_month(NOW))

    [invoice] = consolidated_invoices_of(tenant_beta)
    assert (invoice.status, invoice.credit_applied) == (Invoice.Status.PAID, D("112.48"))
    assert {c.status for c in Invoice.objects.filter(pk__in=[c.pk for c in client_invoices])} == {
        Invoice.Status.PAID}
