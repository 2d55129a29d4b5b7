"""A reseller's branded invoice in a real browser, on its custom domain: the client's owner signs in on its host
under the reseller's domain, opens Billing → invoices from its agency and reads the one the agency issued it,
under the agency's brand (name, colours, header and footer), with the agency's own number and amounts. No page
of the journey raises a Content-Security-Policy violation (portal_page checks). The data is made before the
browser starts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.e2e.test_reseller_portal import portal_page
from tests.support.clock import NOW
from tests.support.dns import dns_zone
from tests.support.portals import brand_make, domain_records_publish, wildcard_publish
from tests.support.tenants import tenant_purge

# portal_page asks for `reseller_portal`: this module's, below (a fixture resolves by the test's module).
__all__ = ["dns_zone", "portal_page"]
pytestmark = pytest.mark.e2e

OWNER_PASSWORD = "Amber-kettle-orchard-52"


@pytest.fixture
def reseller_portal(committed_live_server, dns_zone, settings) -> Iterator[dict]:
    """A branded reseller on its verified domain with a price list, and its client `bloom-<id>` whose first
    invoice the agency issued under its own number; everything is removed afterwards."""
    from django.db import connection
    from django_tenants.utils import schema_context

    from accounts.models import User
    from tenants.models import Tenant
    from tests.support.agencies import client_make
    from tests.support.resellers import client_invoice_make, reseller_make
    from whitelabel.domains.services import domain_check, domain_claim
    from whitelabel.models import ResellerInvoice
    from whitelabel.resellers.services import reseller_prices_set, reseller_settings_save

    run = uuid.uuid4().hex[:6]
    host = f"portal.nw{run}.example"
    settings.CUSTOM_DOMAIN_TARGET = "domains.localhost"
    settings.CUSTOM_DOMAIN_ON_DEMAND_TLS = True
    settings.SITE_SCHEME = "http"
    agency = reseller_make(f"nw{run}")
    brand_make(agency, support_email="help@northwind.example", invoice_header="Thank you for growing with us",
               invoice_footer="Questions? billing@northwind.example", legal_footer="Northwind Digital Ltd, reg. 123")
    reseller_settings_save(agency=agency, now=NOW, data={"legal_name": "Northwind Digital Ltd", "number_prefix": "NW",
                                                         "payment_instructions": "IBAN GB00 NWBK 1234"})
    reseller_prices_set(agency=agency, now=NOW, entries=[
        {"plan": "starter", "interval": "month", "currency": "USD", "amount": "25.00"}])
    client = client_make(agency, f"bloom-{run}")
    client.name = "Bloom Florists"  # the invoice's "Bill to", rather than the slug's title
    client.save(update_fields=["name"])
    with schema_context(client.schema_name):
        owner = User.objects.get(email=client.owner_email)
        owner.set_password(OWNER_PASSWORD)
        owner.is_active = True
        owner.save()
    invoice = ResellerInvoice.objects.get(source_invoice=client_invoice_make(client, now=NOW))
    # The domain after the client's invoice: a client's host under it would count against Starter's custom domains.
    domain = domain_claim(tenant=agency, hostname=host, now=NOW)
    domain_records_publish(dns_zone, domain)
    wildcard_publish(dns_zone, domain)
    domain_check(domain=domain, now=NOW)  # committed: the wildcard check gives the client its host
    try:
        yield {"host": host, "port": committed_live_server.port, "slug": client.slug,
               "owner_email": client.owner_email, "number": invoice.number, "total": f"{invoice.total:.2f}"}
    finally:
        connection.set_schema_to_public()
        ResellerInvoice.objects.filter(agency=agency).delete()  # it protects the client, the agency and the invoice
        for each in Tenant.objects.filter(parent_agency=agency):
            tenant_purge(each)
        tenant_purge(agency)


def test_the_client_reads_its_resellers_invoice_under_the_resellers_brand(reseller_portal, portal_page,
                                                                         artifacts_dir):
    page = portal_page()
    host, port, slug = reseller_portal["host"], reseller_portal["port"], reseller_portal["slug"]
    client_host = f"http://{slug}.{host}:{port}"

    page.goto(f"{client_host}/accounts/login/")
    assert page.get_by_test_id("auth-brand").inner_text().strip() == "Northwind Digital"
    page.fill('input[name="login"]', reseller_portal["owner_email"])
    page.fill('input[name="password"]', OWNER_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{client_host}/")

    page.goto(f"{client_host}/billing/reseller-invoices/")
    page.get_by_role("link", name=reseller_portal["number"]).click()
    page.wait_for_url(f"{client_host}/billing/reseller-invoices/{reseller_portal['number']}/")
    brand = page.get_by_test_id("invoice-brand")
    assert "Northwind Digital" in brand.inner_text()
    assert brand.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(11, 93, 30)"
    sheet = page.locator("main.invoice-sheet").inner_text()
    for text in (reseller_portal["number"], "25.00", reseller_portal["total"], "USD", "Thank you for growing with us",
                 "IBAN GB00 NWBK 1234", "Northwind Digital Ltd, reg. 123"):
        assert text in sheet, text
    assert "Tollgate" not in page.title()
    page.screenshot(path=artifacts_dir / "e2e-reseller-invoice.png", full_page=True)
