"""Reseller pages: the agency's price list (field errors under the price), its invoices and their status, and
the branded invoice page and PDF that both the agency and its client read (under the agency's brand, hostile
brand values escaped, no Tollgate name unless "Powered by" shows)."""

import io
from decimal import Decimal

import pytest
from django.utils import timezone
from PIL import Image

from accounts.models import Role
from affiliates.models import AgencyProfile
from tests.support.agencies import client_make, signed_in
from tests.support.clock import NOW
from tests.support.resellers import client_invoice_make, reseller_make
from whitelabel.brands.services import brand_save
from whitelabel.models import ResellerInvoice, ResellerPrice
from whitelabel.resellers.services import reseller_prices_set, reseller_settings_save

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script>'


def png() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), "#0b5f3a").save(buffer, format="PNG")
    buffer.seek(0)
    return buffer


@pytest.fixture
def world(frozen_now):
    agency = reseller_make("northwind-test")
    reseller_settings_save(agency=agency, now=NOW, data={"legal_name": "Northwind Digital Ltd", "number_prefix": "NW",
                                                         "payment_instructions": "IBAN GB00 NWBK"})
    reseller_prices_set(agency=agency, now=NOW, entries=[
        {"plan": "starter", "interval": "month", "currency": "USD", "amount": "25.00"}])
    client = client_make(agency, "bloom-test")
    invoice = ResellerInvoice.objects.get(source_invoice=client_invoice_make(client, now=NOW))
    return {"agency": agency, "client": client, "invoice": invoice}


def brand(agency, **fields):
    data = {"display_name": "Northwind Digital", "primary_colour": "#0b5f3a", "invoice_header": "Thanks for your trust",
            "invoice_footer": "Questions? billing@northwind.test", "legal_footer": "Northwind Digital Ltd, reg. 123",
            "show_powered_by": False, **fields}
    return brand_save(tenant=agency, data=data, now=timezone.now())


def test_the_client_sees_its_agencys_invoice_under_the_agencys_brand(world):
    brand(world["agency"], logo=png())
    page = signed_in(world["client"]).get(f"/billing/reseller-invoices/{world['invoice'].number}/")
    html = page.content.decode()
    assert page.status_code == 200
    for text in ("Northwind Digital", "Thanks for your trust", "billing@northwind.test", "reg. 123", "#0b5f3a",
                 "NW-2026-0001", "25.00 USD", "IBAN GB00 NWBK", "/media/brands/logos/"):
        assert text in html, text
    assert "Tollgate" not in html.replace("tollgate.css", "")


def test_powered_by_shows_when_the_brand_shows_it(world):
    brand(world["agency"], show_powered_by=True)
    html = signed_in(world["client"]).get(f"/billing/reseller-invoices/{world['invoice'].number}/").content.decode()
    assert "Powered by Tollgate" in html


def test_hostile_brand_and_legal_values_are_escaped(world):
    brand(world["agency"], display_name="Evil" + HOSTILE[:20], invoice_header=HOSTILE, invoice_footer=HOSTILE,
          legal_footer=HOSTILE)
    reseller_settings_save(agency=world["agency"], now=NOW, data={"legal_name": HOSTILE, "address": HOSTILE})
    world["invoice"].issuer = {**world["invoice"].issuer, "name": HOSTILE, "address": HOSTILE}
    world["invoice"].save(update_fields=["issuer"])
    html = signed_in(world["client"]).get(f"/billing/reseller-invoices/{world['invoice'].number}/").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_the_invoice_pdf_renders_with_the_brand(world):
    brand(world["agency"], logo=png())
    response = signed_in(world["client"]).get(f"/billing/reseller-invoices/{world['invoice'].number}.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and b"Northwind Digital" in response.content
    assert b"/Subtype /Image" in response.content  # the logo
    assert b"Tollgate" not in response.content


def test_the_pdf_of_an_unbranded_agency_renders_with_its_name(world):
    response = signed_in(world["agency"]).get(f"/agency/invoices/{world['invoice'].number}.pdf")
    assert response.status_code == 200 and b"Northwind Test" in response.content


def test_the_clients_list_links_its_invoices(world):
    html = signed_in(world["client"]).get("/billing/reseller-invoices/").content.decode()
    assert "Invoices from Northwind Test" in html and world["invoice"].number in html


def test_a_client_without_an_agency_has_no_reseller_invoices_page(tenant_alpha, alpha_owner_client):
    assert alpha_owner_client.get("/billing/reseller-invoices/").status_code == 404


def test_a_member_of_the_client_cannot_read_its_invoices(world):
    member = signed_in(world["client"], email="member@bloom.test", role=Role.MEMBER)
    assert member.get(f"/billing/reseller-invoices/{world['invoice'].number}/").status_code == 403


def test_the_price_list_shows_list_wholesale_and_margin(world):
    html = signed_in(world["agency"]).get("/agency/prices/").content.decode()
    assert 'data-price="starter:month:USD"' in html
    for text in ("19.00 USD", "15.20 USD", "25.00", "9.80 USD"):
        assert text in html, text


def test_a_price_below_wholesale_is_refused_under_its_field(world):
    response = signed_in(world["agency"]).post("/agency/prices/", {
        "form": "prices", "starter:month:USD": "25.00", "pro:month:USD": "10.00"})
    assert response.status_code == 400
    assert "At least 79.20 USD" in response.content.decode()
    assert not ResellerPrice.objects.filter(agency=world["agency"], plan__code="pro").exists()


def test_prices_are_saved_from_the_page(world):
    response = signed_in(world["agency"]).post("/agency/prices/", {
        "form": "prices", "starter:month:USD": "", "pro:month:USD": "120.00"})
    assert response.status_code == 302
    active = {price.plan.code: price.amount for price in ResellerPrice.objects.filter(agency=world["agency"],
                                                                                         is_active=True)}
    assert active == {"pro": Decimal("120.00")}


def test_invoicing_details_refuse_a_bad_prefix_under_its_field(world):
    response = signed_in(world["agency"]).post("/agency/prices/", {
        "form": "details", "number_prefix": "N W!", "tax_name": "VAT", "payment_terms_days": "14"})
    assert response.status_code == 400 and "Up to 10 letters or digits" in response.content.decode()


def test_the_agency_marks_an_invoice_paid_from_its_page(world):
    agency = signed_in(world["agency"])
    page = agency.get(f"/agency/invoices/{world['invoice'].number}/").content.decode()
    assert "15.20 USD" in page and "Mark paid" in page
    agency.post(f"/agency/invoices/{world['invoice'].number}/paid/")
    world["invoice"].refresh_from_db()
    assert world["invoice"].status == "paid"


def test_the_agencys_invoices_page_shows_the_margin(world):
    html = signed_in(world["agency"]).get("/agency/invoices/").content.decode()
    assert 'data-testid="reseller-margin-total">9.80 USD' in html and world["invoice"].number in html


def test_the_price_list_of_a_referral_agency_says_why_it_cannot_set_prices(frozen_now):
    agency = reseller_make("referrer", mode=AgencyProfile.EarningsMode.REFERRAL)
    html = signed_in(agency).get("/agency/prices/").content.decode()
    assert 'data-testid="reseller-not-reselling"' in html


def test_the_clients_billing_page_lists_its_invoices_from_its_agency(world):
    html = signed_in(world["client"]).get("/billing/").content.decode()
    assert 'data-testid="billing-reseller-invoices"' in html
    assert "Invoices from Northwind Test" in html and world["invoice"].number in html


def test_the_agency_dashboard_shows_the_margin_and_the_plans_it_has_no_price_for(world):
    client_invoice_make(client_make(world["agency"], "fern-test"), now=NOW, price_code="starter-month-eur")
    html = signed_in(world["agency"]).get("/clients/").content.decode()
    assert 'data-testid="reseller-margin-total">9.80 USD' in html
    assert 'data-testid="reseller-missing-prices"' in html and "<strong>starter</strong> (month, EUR)" in html


def test_the_agency_dashboard_of_a_referral_agency_shows_no_margin(frozen_now):
    agency = reseller_make("referrer", mode=AgencyProfile.EarningsMode.REFERRAL)
    assert 'data-testid="reseller-margin"' not in signed_in(agency).get("/clients/").content.decode()


def test_an_agency_admin_without_billing_cannot_see_or_change_prices_and_invoices(world):
    admin = signed_in(world["agency"], email="admin@northwind.test", role=Role.ADMIN)
    number = world["invoice"].number
    paths = ("/agency/prices/", "/agency/invoices/", f"/agency/invoices/{number}/", f"/agency/invoices/{number}.pdf")
    for path in paths:
        assert admin.get(path).status_code == 403, path
    assert admin.post("/agency/prices/", {"form": "prices", "starter:month:USD": "99.00"}).status_code == 403
    assert admin.post(f"/agency/invoices/{number}/void/").status_code == 403
    world["invoice"].refresh_from_db()
    assert world["invoice"].status == "open"
    assert ResellerPrice.objects.get(agency=world["agency"]).amount == Decimal("25.00")
    assert 'data-testid="reseller-margin"' not in admin.get("/clients/").content.decode()


def test_the_agencys_billing_staff_may_manage_prices_and_invoices(world):
    billing = signed_in(world["agency"], email="billing@northwind.test", role=Role.BILLING)
    assert billing.get("/agency/prices/").status_code == 200
    billing.post(f"/agency/invoices/{world['invoice'].number}/void/")
    world["invoice"].refresh_from_db()
    assert world["invoice"].status == "void"


def test_the_agencys_billing_page_links_its_price_list_and_client_invoices(world):
    billing = signed_in(world["agency"], email="billing@northwind.test", role=Role.BILLING)
    html = billing.get("/billing/").content.decode()
    assert 'data-testid="billing-reseller"' in html and "/agency/prices/" in html and "9.80 USD" in html
