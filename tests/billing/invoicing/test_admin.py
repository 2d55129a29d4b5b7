"""The invoicing admin under a frozen clock (NOW = 2026-11-20 12:00 UTC): invoices with their lines and PDF,
every action and form through the invoicing services as the signed-in operator, and the read-only ledgers."""

from datetime import timedelta
from decimal import Decimal

import pytest

from billing.invoicing.credit import account_credit_add, account_credit_balance
from billing.invoicing.services import credit_note_issue, invoice_finalize
from billing.invoicing.totals import invoice_totals_apply
from billing.models import (
    AccountCredit, AccountCreditEntry, BillingEmail, CreditNote, Invoice, InvoiceLine, Product, ServiceQuote,
)
from billing.quotes.services import service_quote_request, service_quote_withdraw
from config.money import Money
from tests.support.clock import NOW
from tests.support.factories import OpsUserFactory

pytestmark = pytest.mark.django_db

INVOICES = "/admin/billing/invoice/"
CREDIT_NOTES = "/admin/billing/creditnote/"
CREDITS = "/admin/billing/accountcredit/"
ENTRIES = "/admin/billing/accountcreditentry/"
Status = Invoice.Status
API_CALLS_BREAKDOWN = [{"kind": "packages", "units": "3", "amount": "0.15", "unit_amount": "0.05",
                        "package_size": "1000"}]


@pytest.fixture(autouse=True)
def own_series(settings):
    """Series no other test uses, so that documents committed elsewhere cannot shift the numbers asserted here."""
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "HA", "HC"


@pytest.fixture
def operator(db):
    return OpsUserFactory()


@pytest.fixture
def admin_client(public_client, operator, frozen_now):
    public_client.force_login(operator)
    return public_client


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def draft_invoice(tenant, *amounts: str) -> Invoice:
    """A draft invoice with one line per amount (the first with a usage breakdown), its totals applied."""
    invoice = Invoice.objects.create(tenant=tenant, billing_reason=Invoice.Reason.MANUAL, currency="USD",
                                     created_at=NOW)
    for n, amount in enumerate(amounts):
        InvoiceLine.objects.create(invoice=invoice, kind=InvoiceLine.Kind.USAGE, description=f"Line {n + 1}",
                                   amount_exact=Decimal(amount), amount=Decimal(amount), sort_order=n,
                                   breakdown=API_CALLS_BREAKDOWN if n == 0 else [])
    invoice_totals_apply(invoice=invoice)
    return invoice


def open_invoice(tenant, *amounts: str) -> Invoice:
    return invoice_finalize(invoice=draft_invoice(tenant, *amounts), now=NOW)


def fresh(invoice: Invoice) -> Invoice:
    return Invoice.objects.get(pk=invoice.pk)


def run_action(client, action: str, invoices: list[Invoice]):
    return client.post(INVOICES, {"action": action, "_selected_action": [i.pk for i in invoices]}, follow=True)


def page(invoice: Invoice, name: str) -> str:
    return f"{INVOICES}{invoice.pk}/{name}/"


def message_texts(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- List and detail ------------------------------------------------------------------------------

def test_the_list_shows_number_tenant_status_total_and_amount_due(admin_client, tenant_alpha):
    open_invoice(tenant_alpha, "40.00", "2.50")

    response = admin_client.get(INVOICES)

    row = response.content.decode().split("HA-2026-000001", 1)[1].split("</tr>", 1)[0]
    assert "Alpha Co" in row and "Open" in row and row.count("42.50 USD") == 2


def test_invoices_filter_by_status(admin_client, tenant_alpha, tenant_beta):
    open_invoice(tenant_alpha, "10.00")
    draft_invoice(tenant_beta, "20.00")

    response = admin_client.get(INVOICES, {"status__exact": "draft"})

    assert b"Beta Inc" in response.content and b"Alpha Co" not in response.content


def test_invoices_filter_by_reason(admin_client, tenant_alpha):
    open_invoice(tenant_alpha, "10.00")

    response = admin_client.get(INVOICES, {"billing_reason__exact": "subscription_cycle"})

    assert b"HA-2026-000001" not in response.content


def test_invoices_are_searchable_by_number(admin_client, tenant_alpha, tenant_beta):
    open_invoice(tenant_alpha, "10.00")
    open_invoice(tenant_beta, "20.00")

    response = admin_client.get(INVOICES, {"q": "HA-2026-000002"})

    assert b"Beta Inc" in response.content and b"Alpha Co" not in response.content


def test_invoices_are_searchable_by_tenant(admin_client, tenant_alpha, tenant_beta):
    open_invoice(tenant_alpha, "10.00")
    open_invoice(tenant_beta, "20.00")

    response = admin_client.get(INVOICES, {"q": "alpha"})

    assert b"Alpha Co" in response.content and b"Beta Inc" not in response.content


def test_the_invoice_page_shows_each_lines_breakdown_as_text(admin_client, tenant_alpha):
    invoice = open_invoice(tenant_alpha, "0.15")

    response = admin_client.get(f"{INVOICES}{invoice.pk}/change/")

    assert "3 package(s) of 1,000 × 0.05 USD = 0.15 USD" in response.content.decode()


def test_a_finalised_invoices_lines_are_not_editable_in_admin(admin_client, tenant_alpha):
    invoice = open_invoice(tenant_alpha, "10.00")

    response = admin_client.get(f"{INVOICES}{invoice.pk}/change/")

    assert b'name="lines-0-amount"' not in response.content and b'name="_save"' not in response.content
    assert b"/remove/" not in response.content


def test_a_finalised_invoices_line_cannot_be_removed_from_admin(admin_client, tenant_alpha):
    invoice = open_invoice(tenant_alpha, "10.00", "5.00")
    line = invoice.lines.last()

    response = admin_client.post(page(invoice, f"lines/{line.pk}/remove"))

    assert response.status_code == 400
    assert "cannot be changed" in response.context["form"].non_field_errors()[0]
    assert invoice.lines.count() == 2


def test_a_drafts_lines_link_to_their_removal(admin_client, tenant_alpha):
    invoice = draft_invoice(tenant_alpha, "10.00")

    response = admin_client.get(f"{INVOICES}{invoice.pk}/change/")

    assert page(invoice, f"lines/{invoice.lines.get().pk}/remove").encode() in response.content


def test_the_invoice_pdf_is_served_as_a_pdf(admin_client, tenant_alpha):
    invoice = open_invoice(tenant_alpha, "10.00")

    response = admin_client.get(page(invoice, "pdf"))

    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert 'filename="HA-2026-000001.pdf"' in response["Content-Disposition"]


def test_invoices_cannot_be_added_or_deleted_in_admin(admin_client, tenant_alpha):
    invoice = draft_invoice(tenant_alpha, "10.00")

    assert admin_client.get(f"{INVOICES}add/").status_code == 403
    assert admin_client.get(f"{INVOICES}{invoice.pk}/delete/").status_code == 403


# --- Actions --------------------------------------------------------------------------------------

def test_finalising_a_draft_from_the_list_numbers_it(admin_client, tenant_alpha):
    invoice = draft_invoice(tenant_alpha, "10.00")

    run_action(admin_client, "finalize", [invoice])

    assert (fresh(invoice).status, fresh(invoice).number) == (Status.OPEN, "HA-2026-000001")


def test_finalising_an_open_invoice_again_is_a_warning(admin_client, tenant_alpha):
    invoice = open_invoice(tenant_alpha, "10.00")

    response = run_action(admin_client, "finalize", [invoice])

    assert response.status_code == 200
    assert any("already finalised" in text for text in message_texts(response))


def test_marking_an_invoice_paid_from_the_list(admin_client, tenant_alpha):
    invoice = open_invoice(tenant_alpha, "10.00")

    response = run_action(admin_client, "mark_paid", [invoice])

    assert (fresh(invoice).status, fresh(invoice).amount_paid) == (Status.PAID, Decimal("10.00"))
    assert "Marked paid: 1 invoice(s)." in message_texts(response)


def test_voiding_an_invoice_from_the_list(admin_client, tenant_alpha):
    invoice = open_invoice(tenant_alpha, "10.00")

    run_action(admin_client, "void", [invoice])

    assert (fresh(invoice).status, fresh(invoice).number) == (Status.VOID, "HA-2026-000001")


def test_marking_an_invoice_uncollectible_from_the_list(admin_client, tenant_alpha):
    invoice = open_invoice(tenant_alpha, "10.00")

    run_action(admin_client, "mark_uncollectible", [invoice])

    assert fresh(invoice).status == Status.UNCOLLECTIBLE


def test_the_invoice_page_offers_only_what_its_status_allows(admin_client, tenant_alpha):
    invoice = open_invoice(tenant_alpha, "10.00")

    response = admin_client.get(f"{INVOICES}{invoice.pk}/change/")

    assert page(invoice, "operation/mark-paid").encode() in response.content
    assert page(invoice, "operation/finalize").encode() not in response.content


def test_marking_paid_from_the_invoice_page(admin_client, tenant_alpha):
    invoice = open_invoice(tenant_alpha, "10.00")

    response = admin_client.post(page(invoice, "operation/mark-paid"))

    assert response.status_code == 302 and fresh(invoice).status == Status.PAID


def test_voiding_a_paid_invoice_from_its_page_is_a_form_error(admin_client, tenant_alpha):
    invoice = open_invoice(tenant_alpha, "10.00")
    admin_client.post(page(invoice, "operation/mark-paid"))

    response = admin_client.post(page(invoice, "operation/void"))

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == ["This invoice is paid: it cannot be voided."]


# --- Credit notes ---------------------------------------------------------------------------------

def test_issuing_a_credit_note_credits_the_account(admin_client, operator, tenant_alpha):
    invoice = open_invoice(tenant_alpha, "40.00")

    response = admin_client.post(page(invoice, "credit-note"), {"amount": "15.00", "reason": "correction",
                                                                "memo": "Outage on the 3rd"})

    assert response.status_code == 302
    note = CreditNote.objects.get(invoice=invoice)
    assert (note.number, note.amount, note.created_by) == ("HC-2026-000001", Decimal("15.00"), operator.email)
    assert account_credit_balance(tenant=tenant_alpha, currency="USD") == usd("15.00")


def test_a_credit_note_beyond_what_the_invoice_can_credit_is_a_form_error(admin_client, tenant_alpha):
    invoice = open_invoice(tenant_alpha, "40.00")
    credit_note_issue(invoice=invoice, amount=usd("30.00"), reason="correction", memo="", actor="x", now=NOW)

    response = admin_client.post(page(invoice, "credit-note"), {"amount": "10.01", "reason": "correction"})

    assert response.status_code == 400
    assert response.context["form"].errors["amount"] == ["Invoice HA-2026-000001 can be credited 10.00 USD at most."]


def test_a_credit_note_finer_than_cents_is_a_form_error(admin_client, tenant_alpha):
    invoice = open_invoice(tenant_alpha, "40.00")

    response = admin_client.post(page(invoice, "credit-note"), {"amount": "1.005", "reason": "correction"})

    assert "amount" in response.context["form"].errors
    assert not CreditNote.objects.exists()


def test_a_draft_cannot_be_credited(admin_client, tenant_alpha):
    invoice = draft_invoice(tenant_alpha, "40.00")

    response = admin_client.post(page(invoice, "credit-note"), {"amount": "1.00", "reason": "correction"})

    assert response.context["form"].non_field_errors() == ["This invoice is draft: it cannot be credited."]


def test_credit_notes_are_listed_read_only(admin_client, tenant_alpha):
    invoice = open_invoice(tenant_alpha, "40.00")
    note = credit_note_issue(invoice=invoice, amount=usd("5.00"), reason="duplicate", memo="", actor="x", now=NOW)

    listing = admin_client.get(CREDIT_NOTES)
    detail = admin_client.get(f"{CREDIT_NOTES}{note.pk}/change/")

    assert b"HC-2026-000001" in listing.content and b"5.00 USD" in listing.content
    assert b'name="amount"' not in detail.content
    assert admin_client.get(f"{CREDIT_NOTES}add/").status_code == 403


# --- Draft lines ----------------------------------------------------------------------------------

def test_adding_a_line_to_a_draft_recomputes_its_total(admin_client, tenant_alpha):
    invoice = draft_invoice(tenant_alpha, "10.00")

    response = admin_client.post(page(invoice, "lines/add"), {"description": "Setup", "amount": "25.00"})

    assert response.status_code == 302
    assert fresh(invoice).total == Decimal("35.00")


def test_a_negative_correction_line_lowers_the_total(admin_client, tenant_alpha):
    invoice = draft_invoice(tenant_alpha, "10.00")

    admin_client.post(page(invoice, "lines/add"), {"description": "Goodwill", "amount": "-4.00"})

    assert fresh(invoice).total == Decimal("6.00")


def test_adding_a_line_to_a_finalised_invoice_is_a_form_error(admin_client, tenant_alpha):
    invoice = open_invoice(tenant_alpha, "10.00")

    response = admin_client.post(page(invoice, "lines/add"), {"description": "Late", "amount": "1.00"})

    assert response.status_code == 400
    assert invoice.lines.count() == 1


def test_removing_a_drafts_line_recomputes_its_total(admin_client, tenant_alpha):
    invoice = draft_invoice(tenant_alpha, "10.00", "5.00")

    response = admin_client.post(page(invoice, f"lines/{invoice.lines.last().pk}/remove"))

    assert response.status_code == 302
    assert fresh(invoice).total == Decimal("10.00")


def test_removing_a_line_of_another_invoice_is_not_found(admin_client, tenant_alpha):
    invoice = draft_invoice(tenant_alpha, "10.00")
    other = draft_invoice(tenant_alpha, "5.00")

    assert admin_client.post(page(invoice, f"lines/{other.lines.get().pk}/remove")).status_code == 404


# --- Account credit -------------------------------------------------------------------------------

def promotion(tenant, amount: str) -> AccountCredit:
    account_credit_add(tenant=tenant, amount=usd(amount), kind=AccountCreditEntry.Kind.PROMOTION,
                       description="Welcome credit", actor="ops@tollgate.test", now=NOW)
    return AccountCredit.objects.get(tenant=tenant, currency="USD")


def test_an_account_credit_shows_its_ledger_read_only(admin_client, tenant_alpha):
    account = promotion(tenant_alpha, "20.00")

    response = admin_client.get(f"{CREDITS}{account.pk}/change/")

    assert b"Welcome credit" in response.content and b"20.00 USD" in response.content
    assert b'name="balance"' not in response.content and b'name="entries-0-amount"' not in response.content


def test_adjusting_an_account_credit_writes_a_ledger_entry(admin_client, operator, tenant_alpha):
    account = promotion(tenant_alpha, "20.00")

    response = admin_client.post(f"{CREDITS}{account.pk}/adjust/", {
        "kind": "adjustment", "amount": "-5.00", "description": "Taken back", "key": "k1"})

    assert response.status_code == 302
    entry = AccountCreditEntry.objects.filter(tenant=tenant_alpha).order_by("-id").first()
    assert (entry.amount, entry.balance_after, entry.created_by) == (Decimal("-5.00"), Decimal("15.00"),
                                                                     operator.email)


def test_an_adjustment_beyond_the_balance_is_a_form_error(admin_client, tenant_alpha):
    account = promotion(tenant_alpha, "20.00")

    response = admin_client.post(f"{CREDITS}{account.pk}/adjust/", {
        "kind": "adjustment", "amount": "-20.01", "description": "Too much", "key": "k2"})

    assert response.context["form"].errors["amount"] == ["The account credit does not cover this adjustment."]
    assert account_credit_balance(tenant=tenant_alpha, currency="USD") == usd("20.00")


def test_a_negative_promotion_is_a_form_error(admin_client, tenant_alpha):
    account = promotion(tenant_alpha, "20.00")

    response = admin_client.post(f"{CREDITS}{account.pk}/adjust/", {
        "kind": "promotion", "amount": "-1.00", "description": "No", "key": "k3"})

    assert response.status_code == 400
    assert "amount" in response.context["form"].errors


def test_an_adjustment_finer_than_cents_is_a_form_error(admin_client, tenant_alpha):
    account = promotion(tenant_alpha, "20.00")

    response = admin_client.post(f"{CREDITS}{account.pk}/adjust/", {
        "kind": "promotion", "amount": "1.005", "description": "Fractions", "key": "k4"})

    assert response.status_code == 400
    assert account_credit_balance(tenant=tenant_alpha, currency="USD") == usd("20.00")


def test_credit_is_added_for_a_tenant_that_had_none(admin_client, tenant_beta):
    response = admin_client.post(f"{CREDITS}grant/", {
        "tenant": tenant_beta.slug, "currency": "EUR", "kind": "promotion", "amount": "12.50",
        "description": "Launch credit", "key": "k5"})

    assert response.status_code == 302
    assert account_credit_balance(tenant=tenant_beta, currency="EUR") == Money(Decimal("12.50"), "EUR")


def test_an_adjustment_form_submitted_twice_writes_one_entry(admin_client, tenant_alpha):
    account = promotion(tenant_alpha, "20.00")
    form = {"kind": "promotion", "amount": "5.00", "description": "Goodwill", "key": "double-click"}

    first = admin_client.post(f"{CREDITS}{account.pk}/adjust/", form)
    second = admin_client.post(f"{CREDITS}{account.pk}/adjust/", form)

    assert (first.status_code, second.status_code) == (302, 302)
    assert account_credit_balance(tenant=tenant_alpha, currency="USD") == usd("25.00")


def test_account_credit_cannot_be_typed_in_or_deleted(admin_client, tenant_alpha):
    account = promotion(tenant_alpha, "20.00")

    assert admin_client.get(f"{CREDITS}add/").status_code == 403
    assert admin_client.get(f"{CREDITS}{account.pk}/delete/").status_code == 403


def test_the_ledger_lists_every_entry_read_only(admin_client, tenant_alpha):
    promotion(tenant_alpha, "20.00")
    entry = AccountCreditEntry.objects.get(tenant=tenant_alpha)

    listing = admin_client.get(ENTRIES)

    assert b"Welcome credit" in listing.content
    assert b'name="amount"' not in admin_client.get(f"{ENTRIES}{entry.pk}/change/").content


# --- Quotes and emails ----------------------------------------------------------------------------

QUOTES = "/admin/billing/servicequote/"


@pytest.fixture
def requested(tenant_alpha) -> ServiceQuote:
    """Alpha asks for a website audit (299 to 799 USD)."""
    return service_quote_request(tenant=tenant_alpha, product=Product.objects.get(code="website-audit"),
                                 brief="Audit our landing page", actor="owner@alpha.test", now=NOW)


def send_quote(client, quote: ServiceQuote, **values):
    return client.post(f"{QUOTES}{quote.pk}/send/", {"amount": "450.00", "note": "Two days of work",
                                                      "valid_until": "2026-12-20T12:00", **values})


def test_quotes_are_listed_read_only(admin_client, requested):
    listing = admin_client.get(QUOTES)
    detail = admin_client.get(f"{QUOTES}{requested.pk}/change/")

    assert b"Alpha Co" in listing.content and b"Requested" in listing.content
    assert b'name="amount"' not in detail.content and f"{QUOTES}{requested.pk}/send/".encode() in detail.content


def test_sending_a_quote_prices_the_request(admin_client, operator, requested):
    response = send_quote(admin_client, requested)

    assert response.status_code == 302
    quote = ServiceQuote.objects.get(pk=requested.pk)
    assert (quote.status, quote.amount, quote.quoted_by) == ("quoted", Decimal("450.00"), operator.email)
    assert quote.valid_until == NOW + timedelta(days=30)


def test_a_quote_outside_the_products_range_is_a_form_error(admin_client, requested):
    response = send_quote(admin_client, requested, amount="800.00")

    assert response.status_code == 400
    assert response.context["form"].errors["amount"] == [
        "Website Audit & Optimization Report is quoted between 299.00 and 799.00 USD."]
    assert ServiceQuote.objects.get(pk=requested.pk).status == "requested"


def test_a_quote_valid_until_a_past_moment_is_a_form_error(admin_client, requested):
    response = send_quote(admin_client, requested, valid_until="2026-11-01T00:00")

    assert "valid_until" in response.context["form"].errors


def test_an_answered_quote_cannot_be_sent_again(admin_client, requested):
    service_quote_withdraw(quote=requested, actor="owner@alpha.test", now=NOW)

    response = send_quote(admin_client, requested)

    assert response.context["form"].non_field_errors() == ["This request is withdrawn: it cannot be quoted."]


def test_billing_emails_are_listed_read_only(admin_client, tenant_alpha):
    email = BillingEmail.objects.create(tenant=tenant_alpha, kind=BillingEmail.Kind.INVOICE_ISSUED,
                                        cause="invoice:1", subject="Your invoice", recipients=["a@alpha.test"],
                                        sent_at=NOW)

    listing = admin_client.get("/admin/billing/billingemail/")

    assert b"Your invoice" in listing.content
    assert admin_client.get(f"/admin/billing/billingemail/{email.pk}/delete/").status_code == 403


def test_the_full_ledger_link_lists_one_tenants_entries(admin_client, tenant_alpha, tenant_beta):
    account = promotion(tenant_alpha, "20.00")
    account_credit_add(tenant=tenant_beta, amount=usd("3.00"), kind=AccountCreditEntry.Kind.PROMOTION,
                       description="Beta credit", actor="ops@tollgate.test", now=NOW)

    response = admin_client.get(ENTRIES, {"tenant__id__exact": account.tenant_id})

    assert response.status_code == 200
    assert b"Welcome credit" in response.content and b"Beta credit" not in response.content
