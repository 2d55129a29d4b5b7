"""Reseller invoices: one per consolidated client invoice, at the agency's prices (prorated like Tollgate's line),
with its tax, its own gapless numbers and its legal details; the wholesale amount and the margin beside it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import TestCase
from django.utils import timezone

from affiliates.agencies.services import agency_earnings_set
from affiliates.models import AgencyProfile
from billing.invoicing.events import invoice_consolidated
from billing.invoicing.services import invoice_void
from billing.models import Invoice, Subscription
from tests.support.agencies import client_make
from tests.support.clock import NOW
from tests.support.resellers import client_invoice_make, consolidated_send, discount_set, reseller_make
from whitelabel.models import ResellerInvoice, ResellerInvoiceLine
from whitelabel.resellers.exceptions import ResellerInvoiceNotFound, ResellerInvoiceStateInvalid
from whitelabel.resellers.selectors import reseller_margin, reseller_prices_missing
from whitelabel.resellers.services import (
    reseller_invoice_issue,
    reseller_invoice_mark_paid,
    reseller_invoice_void,
    reseller_invoices_catch_up,
    reseller_prices_set,
    reseller_settings_save,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency(frozen_now):
    agency = reseller_make("northwind-test")  # 20 % wholesale discount
    reseller_settings_save(agency=agency, now=NOW, data={
        "legal_name": "Northwind Digital Ltd", "address": "1 Harbour Road\nLeeds", "tax_id": "GB123",
        "tax_name": "VAT", "tax_percentage": Decimal("20"), "number_prefix": "nw", "payment_terms_days": 30,
        "payment_instructions": "Transfer to GB00 NWBK 0000 0000"})
    reseller_prices_set(agency=agency, now=NOW, entries=[
        {"plan": "starter", "interval": "month", "currency": "USD", "amount": "25.00"}])
    return agency


def issued(client, **invoice_fields) -> ResellerInvoice:
    """The reseller invoice billing's signal made for the client's new invoice."""
    invoice = client_invoice_make(client, now=timezone.now(), **invoice_fields)
    return ResellerInvoice.objects.get(source_invoice=invoice)


def test_a_consolidated_client_invoice_is_invoiced_at_the_agencys_price_with_its_tax(agency):
    reseller_invoice = issued(client_make(agency, "bloom-test"))
    assert reseller_invoice.number == "NW-2026-0001"
    assert (reseller_invoice.subtotal, reseller_invoice.tax_total, reseller_invoice.total) == (
        Decimal("25.00"), Decimal("5.00"), Decimal("30.00"))
    assert (reseller_invoice.tax_name, reseller_invoice.tax_percentage) == ("VAT", Decimal("20"))
    assert reseller_invoice.wholesale_amount == Decimal("15.20")  # 19.00 USD less 20 %
    assert reseller_invoice.margin == Decimal("9.80")
    assert reseller_invoice.status == "open" and reseller_invoice.due_at == NOW + timedelta(days=30)
    [line] = reseller_invoice.lines.all()
    assert (line.amount, line.list_amount, line.pricing) == (Decimal("25.00"), Decimal("19.00"), "reseller_price")


def test_the_invoice_carries_the_agencys_legal_details_and_the_clients_billing_details(agency):
    reseller_invoice = issued(client_make(agency, "bloom-test"))
    assert reseller_invoice.issuer["name"] == "Northwind Digital Ltd"
    assert reseller_invoice.issuer["tax_id"] == "GB123" and "Harbour Road" in reseller_invoice.issuer["address"]
    assert reseller_invoice.customer["name"] == "Bloom Test"
    assert reseller_invoice.source_invoice.customer == reseller_invoice.customer


def test_a_partial_first_period_prorates_the_agencys_price_by_the_same_fraction(agency):
    client = client_make(agency, "bloom-test")
    reseller_invoice = issued(client, billing_anchor=Subscription.BillingAnchor.CALENDAR_MONTH)
    [line] = reseller_invoice.lines.all()
    tollgate_line = reseller_invoice.source_invoice.lines.get()
    fraction = tollgate_line.amount_exact / tollgate_line.unit_amount
    assert Decimal(0) < fraction < Decimal(1)
    assert line.amount == (Decimal("25.00") * fraction).quantize(Decimal("0.01"))


def test_other_lines_pass_through_at_tollgates_list_amount(agency):
    reseller_prices_set(agency=agency, now=NOW, entries=[
        {"plan": "pro", "interval": "month", "currency": "USD", "amount": "110.00"}])
    reseller_invoice = issued(client_make(agency, "bloom-test"), price_code="pro-month-usd", quantity=7)
    lines = {line.kind: line for line in reseller_invoice.lines.all()}
    assert lines["fixed"].amount == Decimal("110.00")
    assert (lines["seats"].amount, lines["seats"].pricing) == (Decimal("24.00"), "passed_through")  # 2 × 12.00
    assert reseller_invoice.subtotal == Decimal("134.00")


def test_without_a_price_for_the_plan_the_list_price_is_used_and_flagged(agency):
    reseller_invoice = issued(client_make(agency, "bloom-test"), price_code="starter-month-eur")
    [line] = reseller_invoice.lines.all()
    assert (line.amount, line.pricing) == (Decimal("18.00"), "list_price")
    assert reseller_invoice.list_price_used
    assert [(m.plan_code, m.interval, m.currency) for m in reseller_prices_missing(agency=agency)] == [
        ("starter", "month", "EUR")]


def test_a_price_left_below_a_raised_wholesale_is_raised_to_wholesale(agency):
    reseller_prices_set(agency=agency, now=NOW, entries=[
        {"plan": "starter", "interval": "month", "currency": "USD", "amount": "15.20"}])
    client = client_make(agency, "bloom-test")
    discount_set(agency, "0")
    reseller_invoice = issued(client)
    assert reseller_invoice.subtotal == Decimal("19.00") and reseller_invoice.margin == Decimal("0")


def test_a_redelivered_signal_issues_nothing_more(agency):
    reseller_invoice = issued(client_make(agency, "bloom-test"))
    consolidated_send(reseller_invoice.source_invoice)
    again = reseller_invoice_issue(invoice=reseller_invoice.source_invoice, now=NOW + timedelta(days=3))
    assert again == reseller_invoice
    assert ResellerInvoice.objects.filter(agency=agency).count() == 1
    assert ResellerInvoiceLine.objects.filter(invoice__agency=agency).count() == 1


def test_numbers_are_gapless_per_agency_and_independent_between_agencies(agency):
    other = reseller_make("other-reseller")
    numbers = [issued(client_make(agency, "client-a")).number, issued(client_make(other, "client-x")).number,
               issued(client_make(agency, "client-b")).number]
    assert numbers == ["NW-2026-0001", "OTHERRESEL-2026-0001", "NW-2026-0002"]


def test_a_client_of_a_referral_mode_agency_gets_no_reseller_invoice(frozen_now):
    agency = reseller_make("referrer", mode=AgencyProfile.EarningsMode.REFERRAL)
    invoice = client_invoice_make(client_make(agency, "client-r"), now=NOW)
    consolidated_send(invoice)  # sent by mistake for an invoice Tollgate charges the client itself
    assert reseller_invoice_issue(invoice=invoice, now=NOW) is None
    assert not ResellerInvoice.objects.exists()


def test_an_invoice_consolidated_before_the_agency_left_reseller_mode_is_still_invoiced_by_it(agency):
    client = client_make(agency, "bloom-test")
    invoice = client_invoice_make(client, now=NOW)
    ResellerInvoice.objects.filter(source_invoice=invoice).delete()  # as if its signal was lost
    agency_earnings_set(agency=agency, earnings_mode=AgencyProfile.EarningsMode.REFERRAL, actor_email="ops")
    assert reseller_invoice_issue(invoice=invoice, now=NOW).agency == agency


def test_a_workspace_without_an_agency_gets_no_reseller_invoice(tenant_alpha, frozen_now):
    invoice = client_invoice_make(tenant_alpha, now=NOW)
    assert reseller_invoice_issue(invoice=invoice, now=NOW) is None


def test_a_draft_is_not_invoiced(agency):
    invoice = client_invoice_make(client_make(agency, "bloom-test"), now=NOW)
    invoice.status, invoice.number = Invoice.Status.DRAFT, None  # as billing would hand a draft (never saved)
    assert reseller_invoice_issue(invoice=invoice, now=NOW) is None


def test_an_invoice_of_nothing_is_issued_paid(agency):
    reseller_prices_set(agency=agency, now=NOW, entries=[
        {"plan": "starter", "interval": "month", "currency": "USD", "amount": None}])
    client = client_make(agency, "bloom-test")
    discount_set(agency, "100")
    reseller_prices_set(agency=agency, now=NOW, entries=[
        {"plan": "starter", "interval": "month", "currency": "USD", "amount": "0"}])
    reseller_invoice = issued(client)
    assert (reseller_invoice.total, reseller_invoice.status, reseller_invoice.paid_at) == (Decimal("0"), "paid", NOW)


def test_the_agency_marks_its_invoice_paid_once(agency):
    reseller_invoice = issued(client_make(agency, "bloom-test"))
    paid = reseller_invoice_mark_paid(agency=agency, number=reseller_invoice.number, actor="owner@nw.test", now=NOW)
    assert (paid.status, paid.paid_at, paid.status_changed_by) == ("paid", NOW, "owner@nw.test")
    with pytest.raises(ResellerInvoiceStateInvalid):
        reseller_invoice_void(agency=agency, number=reseller_invoice.number, actor="owner@nw.test", now=NOW)


def test_another_agency_cannot_mark_an_invoice_paid(agency):
    reseller_invoice = issued(client_make(agency, "bloom-test"))
    with pytest.raises(ResellerInvoiceNotFound):
        reseller_invoice_mark_paid(agency=reseller_make("other-reseller"), number=reseller_invoice.number,
                                   actor="x", now=NOW)
    reseller_invoice.refresh_from_db()
    assert reseller_invoice.status == "open"


def test_the_margin_is_invoiced_less_wholesale_per_client_and_month_and_void_counts_nothing(agency):
    bloom, fern = client_make(agency, "bloom-test"), client_make(agency, "fern-test")
    issued(bloom)
    voided = issued(fern)
    reseller_invoice_void(agency=agency, number=voided.number, actor="owner", now=NOW)
    report = reseller_margin(agency=agency)
    [row] = report.rows
    assert (row.client, row.month.month, row.invoices) == (bloom, 11, 1)
    assert (row.invoiced.amount, row.wholesale.amount, row.margin.amount) == (
        Decimal("25.00"), Decimal("15.20"), Decimal("9.80"))
    [total] = report.totals
    assert (total.invoiced.amount, total.margin.amount, total.invoiced.currency) == (
        Decimal("25.00"), Decimal("9.80"), "USD")


def test_an_invoice_whose_signal_was_lost_is_issued_by_the_catch_up_once(agency, monkeypatch):
    with monkeypatch.context() as patched:
        patched.setattr(invoice_consolidated, "send", lambda *args, **kwargs: [])  # the process died after commit
        invoice = client_invoice_make(client_make(agency, "bloom-test"), now=NOW)
    assert not ResellerInvoice.objects.filter(source_invoice=invoice).exists()

    [caught] = reseller_invoices_catch_up(now=NOW + timedelta(hours=1))

    assert caught.source_invoice == invoice and caught.number == "NW-2026-0001"
    assert reseller_invoices_catch_up(now=NOW + timedelta(days=1)) == []


def test_the_catch_up_leaves_invoices_tollgate_bills_directly_alone(frozen_now):
    referrer = reseller_make("referrer", mode=AgencyProfile.EarningsMode.REFERRAL)
    client_invoice_make(client_make(referrer, "client-r"), now=NOW)
    assert reseller_invoices_catch_up(now=NOW) == []
    assert not ResellerInvoice.objects.exists()


def test_a_client_invoice_tollgate_voids_voids_its_open_reseller_invoice(agency):
    reseller_invoice = issued(client_make(agency, "bloom-test"))
    with TestCase.captureOnCommitCallbacks(execute=True):
        invoice_void(invoice=reseller_invoice.source_invoice, actor="ops@tollgate.test", now=NOW)
    reseller_invoice.refresh_from_db()
    assert (reseller_invoice.status, reseller_invoice.voided_at) == ("void", NOW)
    assert reseller_margin(agency=agency).rows == []


def test_a_reseller_invoice_already_paid_stays_paid_when_tollgate_voids_its_source(agency):
    reseller_invoice = issued(client_make(agency, "bloom-test"))
    reseller_invoice_mark_paid(agency=agency, number=reseller_invoice.number, actor="owner", now=NOW)
    with TestCase.captureOnCommitCallbacks(execute=True):
        invoice_void(invoice=reseller_invoice.source_invoice, actor="ops@tollgate.test", now=NOW)
    reseller_invoice.refresh_from_db()
    assert reseller_invoice.status == "paid"
