"""Ops admin of reseller billing: price lists with their wholesale price, invoicing details, and reseller invoices
with their lines, all read-only (the agency's pages and API apply the rules)."""

import pytest

from tests.support.agencies import client_make
from tests.support.clock import NOW
from tests.support.factories import OpsUserFactory
from tests.support.resellers import client_invoice_make, reseller_make
from whitelabel.models import ResellerInvoice
from whitelabel.resellers.services import reseller_prices_set, reseller_settings_save

pytestmark = pytest.mark.django_db
ADMIN = "/admin/whitelabel/"


@pytest.fixture
def admin_client(public_client):
    public_client.force_login(OpsUserFactory(is_superuser=True))
    return public_client


@pytest.fixture
def invoice(frozen_now):
    agency = reseller_make("northwind-test")
    reseller_settings_save(agency=agency, now=NOW, data={"number_prefix": "NW", "legal_name": "Northwind Ltd"})
    reseller_prices_set(agency=agency, now=NOW, entries=[
        {"plan": "starter", "interval": "month", "currency": "USD", "amount": "25.00"}])
    return ResellerInvoice.objects.get(source_invoice=client_invoice_make(client_make(agency, "bloom-test"), now=NOW))


def test_the_price_list_shows_each_price_beside_its_wholesale(admin_client, invoice):
    page = admin_client.get(f"{ADMIN}resellerprice/").content.decode()
    assert "25.00" in page and "15.20 USD" in page and "Northwind Test" in page


def test_an_invoice_shows_its_figures_and_lines_read_only(admin_client, invoice):
    listed = admin_client.get(f"{ADMIN}resellerinvoice/").content.decode()
    assert "NW-2026-0001" in listed and "9.80 USD" in listed
    page = admin_client.get(f"{ADMIN}resellerinvoice/{invoice.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Starter (monthly)" in html and "Northwind Ltd" in html
    assert 'name="_save"' not in html


def test_nothing_is_added_changed_or_deleted_here(admin_client, invoice):
    assert admin_client.get(f"{ADMIN}resellerprice/add/").status_code == 403
    assert admin_client.post(f"{ADMIN}resellerinvoice/{invoice.pk}/change/", {"status": "paid"}).status_code == 403
    assert admin_client.post(f"{ADMIN}resellerinvoice/{invoice.pk}/delete/", {"post": "yes"}).status_code == 403
    invoice.refresh_from_db()
    assert invoice.status == "open"


def test_settings_are_listed(admin_client, invoice):
    assert "Northwind Ltd" in admin_client.get(f"{ADMIN}resellersettings/").content.decode()
