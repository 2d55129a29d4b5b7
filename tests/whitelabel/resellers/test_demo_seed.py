"""The demo's reseller billing: northwind's brand, invoicing details and price list, bloom's invoice (issued at
list price before the price list, marked paid) and fern's (at northwind's price); a second run changes nothing."""

from decimal import Decimal

import pytest
from django.utils import timezone

from tests.support.agencies import client_make
from tests.support.resellers import client_invoice_make, reseller_make
from whitelabel.brands.selectors import brand_own
from whitelabel.models import Brand, ResellerInvoice, ResellerPrice
from whitelabel.resellers.demo import reseller_demo_seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def northwind(frozen_now):
    """As the agencies and white-label seeds leave it: a reseller on White-Label, bloom on Starter (invoiced before
    any price list), fern without a subscription."""
    agency = reseller_make("northwind")
    bloom, _ = client_make(agency, "bloom"), client_make(agency, "fern")
    client_invoice_make(bloom, now=timezone.now())
    return agency


def test_the_demo_gives_northwind_a_brand_a_price_list_and_invoices_to_bloom_and_fern(northwind):
    reseller_demo_seed(now=timezone.now())

    brand = brand_own(tenant=northwind)
    assert brand.display_name == "Northwind Digital" and brand.logo and brand.custom_css
    assert ResellerPrice.objects.filter(agency=northwind, is_active=True).count() == 6
    invoices = {invoice.client.slug: invoice for invoice in ResellerInvoice.objects.filter(agency=northwind)}
    assert (invoices["bloom"].status, invoices["bloom"].list_price_used) == ("paid", True)
    assert invoices["fern"].status == "open" and invoices["fern"].subtotal == Decimal("25.00")
    assert invoices["fern"].total == Decimal("30.00") and invoices["fern"].number.startswith("NW-")


def state(agency):
    return (sorted(ResellerInvoice.objects.values_list("number", "status")),
            Brand.objects.get(tenant=agency).version, ResellerPrice.objects.filter(agency=agency).count())


def test_a_second_run_changes_nothing(northwind):
    reseller_demo_seed(now=timezone.now())
    before = state(northwind)
    reseller_demo_seed(now=timezone.now())
    assert state(northwind) == before
