"""The invoice PDF carries what the invoice says: its number, parties, every line with its breakdown, and totals."""

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from billing.charge_models import charge_amount
from billing.invoicing.pdf import invoice_pdf
from billing.invoicing.services import invoice_finalize
from billing.invoicing.totals import invoice_totals_apply
from billing.models import BillingProfile, Invoice, InvoiceLine
from tests.support.clock import NOW

TIERS = {"tiers": [{"up_to": "1000", "unit_amount": "0.01", "flat_amount": "0"},
                   {"up_to": None, "unit_amount": "0.005", "flat_amount": "2"}]}


def pdf_text(invoice: Invoice) -> str:
    reader = PdfReader(io.BytesIO(invoice_pdf(invoice=invoice)))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def issued_invoice(tenant_alpha) -> Invoice:
    BillingProfile.objects.create(tenant=tenant_alpha, legal_name="Alpha Trading GmbH", country="DE",
                                  address_line1="Hauptstraße 5", city="München", postal_code="80331",
                                  tax_id="DE136695976")
    invoice = Invoice.objects.create(tenant=tenant_alpha, billing_reason=Invoice.Reason.MANUAL, currency="USD",
                                     created_at=NOW)
    InvoiceLine.objects.create(invoice=invoice, kind=InvoiceLine.Kind.FIXED, description="Pro (monthly)",
                               amount_exact=Decimal("99"), amount=Decimal("99.00"), sort_order=0)
    usage = charge_amount(model="graduated", properties=TIERS, quantity=Decimal("1500"))
    InvoiceLine.objects.create(invoice=invoice, kind=InvoiceLine.Kind.USAGE, description="API calls",
                               quantity=Decimal("1500"), amount_exact=usage.amount, amount=Decimal("14.50"),
                               breakdown=[part.as_dict() for part in usage.breakdown], sort_order=1)
    invoice_totals_apply(invoice=invoice)
    return invoice_finalize(invoice=invoice, now=NOW)


def test_pdf_shows_the_number_lines_and_total(issued_invoice):
    text = pdf_text(issued_invoice)

    assert issued_invoice.number in text
    assert "Pro (monthly)" in text and "99.00 USD" in text
    assert "API calls" in text and "14.50 USD" in text
    assert "113.50 USD" in text


def test_pdf_explains_a_usage_line_tier_by_tier(issued_invoice):
    text = pdf_text(issued_invoice)

    assert "Tier 1 (0 to 1,000): 1,000 x 0.01 USD = 10.00 USD" in text.replace("×", "x")
    assert "Tier 2 (above 1,000): 500 x 0.005 USD + 2.00 USD flat = 4.50 USD" in text.replace("×", "x")


def test_pdf_addresses_the_customer_with_its_tax_id_and_folds_letters_helvetica_lacks(issued_invoice):
    text = pdf_text(issued_invoice)

    assert "Alpha Trading GmbH" in text
    assert "Hauptstraße 5" in text  # Latin-1: kept as written
    assert "Tax ID: DE136695976" in text


def test_pdf_of_an_open_manual_invoice_says_how_to_pay(issued_invoice, settings):
    assert "How to pay" in pdf_text(issued_invoice)
    assert settings.BILLING_ISSUER["payment_instructions"][:20] in pdf_text(issued_invoice)


def test_pdf_of_a_draft_says_draft_and_has_no_number(tenant_alpha):
    invoice = Invoice.objects.create(tenant=tenant_alpha, billing_reason=Invoice.Reason.MANUAL, currency="EUR",
                                     created_at=NOW)

    assert "Draft invoice" in pdf_text(invoice)
