"""Reseller billing between workspaces: a client sees only its own invoices from its agency (never a sibling's),
an agency only its own price list and invoices (never another agency's), and neither reaches the other's pages."""

import pytest

from tests.support.agencies import client_make, signed_in
from tests.support.api import api_client, api_key_for
from tests.support.clock import NOW
from tests.support.resellers import client_invoice_make, reseller_make
from tests.support.tenants import client_for
from whitelabel.models import ResellerInvoice
from whitelabel.resellers.services import reseller_prices_set, reseller_settings_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(frozen_now):
    """Reseller X with clients A and B (an invoice each), reseller Y with client C (one invoice)."""
    x, y = reseller_make("reseller-x"), reseller_make("reseller-y")
    reseller_settings_save(agency=x, now=NOW, data={"number_prefix": "XX"})
    reseller_settings_save(agency=y, now=NOW, data={"number_prefix": "YY"})
    reseller_prices_set(agency=x, now=NOW, entries=[
        {"plan": "starter", "interval": "month", "currency": "USD", "amount": "21.00"}])
    reseller_prices_set(agency=y, now=NOW, entries=[
        {"plan": "starter", "interval": "month", "currency": "USD", "amount": "37.00"}])
    clients = {"a": client_make(x, "client-a"), "b": client_make(x, "client-b"), "c": client_make(y, "client-c")}
    invoices = {name: ResellerInvoice.objects.get(source_invoice=client_invoice_make(client, now=NOW))
                for name, client in clients.items()}
    return {"x": x, "y": y, **clients, "invoices": invoices}


def test_a_client_cannot_see_its_siblings_invoice(world):
    b = signed_in(world["b"])
    number = world["invoices"]["a"].number
    for path in (f"/billing/reseller-invoices/{number}/", f"/billing/reseller-invoices/{number}.pdf"):
        assert b.get(path).status_code == 404, path
    assert number not in b.get("/billing/reseller-invoices/").content.decode()


def test_a_client_sees_its_own_invoice(world):
    a = signed_in(world["a"])
    number = world["invoices"]["a"].number
    assert a.get(f"/billing/reseller-invoices/{number}/").status_code == 200


def test_an_agency_cannot_see_another_agencys_invoices(world):
    x = signed_in(world["x"])
    number = world["invoices"]["c"].number
    for path in (f"/agency/invoices/{number}/", f"/agency/invoices/{number}.pdf"):
        assert x.get(path).status_code == 404, path
    assert number not in x.get("/agency/invoices/").content.decode()
    assert "Client C" not in x.get("/agency/invoices/").content.decode()


def test_an_agency_cannot_mark_another_agencys_invoice_paid(world):
    number = world["invoices"]["c"].number
    assert signed_in(world["x"]).post(f"/agency/invoices/{number}/paid/").status_code == 404
    world["invoices"]["c"].refresh_from_db()
    assert world["invoices"]["c"].status == "open"


def test_an_agency_never_sees_another_agencys_prices(world):
    page = signed_in(world["x"]).get("/agency/prices/").content.decode()
    assert "21.00" in page and "37.00" not in page
    rows = api_client(world["x"], api_key_for(world["x"], scopes=["agency"])).get("/api/v1/reseller/prices").json()
    prices = {row["price"]["amount"] for row in rows["data"] if row["price"]}
    assert prices == {"21.00"}


def test_an_agencys_price_change_through_the_api_leaves_another_agencys_alone(world):
    api = api_client(world["x"], api_key_for(world["x"], scopes=["agency"]))
    api.put("/api/v1/reseller/prices", {"prices": [{"plan": "starter", "interval": "month", "currency": "USD",
                                                    "amount": None}]}, content_type="application/json")
    rows = api_client(world["y"], api_key_for(world["y"], scopes=["agency"])).get("/api/v1/reseller/prices").json()
    assert {row["price"]["amount"] for row in rows["data"] if row["price"]} == {"37.00"}


def test_a_client_cannot_reach_its_agencys_pages(world):
    a = signed_in(world["a"])
    for path in ("/agency/prices/", "/agency/invoices/", f"/agency/invoices/{world['invoices']['a'].number}/"):
        assert a.get(path).status_code == 404, path
    response = api_client(world["a"], api_key_for(world["a"], scopes=["agency"])).get("/api/v1/reseller/prices")
    assert (response.status_code, response.json()["error"]["code"]) == (403, "not_an_agency")


def test_an_agency_invoice_number_on_a_clients_host_is_not_found_for_another_client(world):
    # The same number asked for on the other agency's client's host.
    c = signed_in(world["c"])
    assert c.get(f"/billing/reseller-invoices/{world['invoices']['a'].number}/").status_code == 404


def test_another_workspaces_session_is_not_signed_in_on_a_clients_invoice(world):
    browser = signed_in(world["b"])
    other_host = client_for(world["a"])
    other_host.cookies = browser.cookies
    response = other_host.get(f"/billing/reseller-invoices/{world['invoices']['a'].number}/")
    assert response.status_code == 302  # to the login page: sessions live in each workspace's schema
