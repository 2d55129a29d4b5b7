"""Reseller mode's data stays where it belongs: a client never sees its agency's consolidated invoice (which names
its fellow clients) nor another client's invoices; an agency never sees another agency's consolidated invoices,
nor its clients' names on them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from affiliates.agencies.services import agency_earnings_set
from affiliates.models import AgencyProfile
from billing.consolidation.services import consolidated_invoices_issue
from tests.support.agencies import agency_make, client_make, signed_in
from tests.support.api import api_client, api_key_for
from tests.support.billing import invoices_of, subscription_started
from tests.support.consolidation import consolidated_invoices_of, next_month
from tests.support.factories import PriceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Agencies one and two in reseller mode: one with clients a and b, two with client x, each subscribed
    yesterday; each agency's consolidated invoice issued once the month closed."""
    one, two = agency_make("agency-one"), agency_make("agency-two")
    for agency in (one, two):
        agency_earnings_set(agency=agency, earnings_mode=AgencyProfile.EarningsMode.RESELLER, actor_email="ops@x.test")
    clients = {"a": client_make(one, "client-a"), "b": client_make(one, "client-b"), "x": client_make(two, "client-x")}
    price = PriceFactory()
    for client in clients.values():
        subscription_started(client, price, at=timezone.now() - timedelta(days=1))
    consolidated_invoices_issue(now=next_month(timezone.now()))
    [one_invoice], [two_invoice] = consolidated_invoices_of(one), consolidated_invoices_of(two)
    return {"one": one, "two": two, **clients, "one_invoice": one_invoice, "two_invoice": two_invoice}


def test_an_agency_never_sees_another_agencys_consolidated_invoices(world):
    page = signed_in(world["two"]).get("/clients/").content.decode()

    assert world["two_invoice"].number in page
    assert world["one_invoice"].number not in page and "Client A" not in page and "Client B" not in page
    assert signed_in(world["two"]).get(f"/billing/invoices/{world['one_invoice'].number}/").status_code == 404


def test_a_client_never_sees_its_agencys_consolidated_invoice(world):
    client = signed_in(world["a"])

    assert world["one_invoice"].number not in client.get("/billing/").content.decode()
    assert client.get(f"/billing/invoices/{world['one_invoice'].number}/").status_code == 404
    api = api_client(world["a"], api_key_for(world["a"]))
    numbers = [invoice["number"] for invoice in api.get("/api/v1/invoices").json()["data"]]
    assert numbers == [invoice.number for invoice in invoices_of(world["a"])]


def test_a_client_never_sees_a_fellow_clients_invoice(world):
    [fellows] = invoices_of(world["b"])
    client = signed_in(world["a"])

    assert fellows.number not in client.get("/billing/").content.decode()
    assert client.get(f"/billing/invoices/{fellows.number}/").status_code == 404
