"""GET/PUT /api/v1/reseller/prices: the agency's own price list, its refusals as JSON errors, and requests that
are not JSON objects of the documented shape answered 4xx, never 5xx."""

import json

import pytest

from affiliates.models import AgencyProfile
from tests.support.api import api_client, api_key_for
from tests.support.resellers import reseller_make
from whitelabel.models import ResellerPrice

pytestmark = pytest.mark.django_db

PATH = "/api/v1/reseller/prices"


def api(tenant, scopes=("agency",)):
    return api_client(tenant, api_key_for(tenant, scopes=list(scopes)))


def put(client, body):
    return client.put(PATH, json.dumps(body) if not isinstance(body, str) else body, content_type="application/json")


def entry(**fields):
    return {"plan": "starter", "interval": "month", "currency": "USD", "amount": "25.00", **fields}


def test_the_price_list_lists_list_wholesale_price_and_margin():
    agency = reseller_make()
    put(api(agency), {"prices": [entry()]})
    data = api(agency).get(PATH).json()["data"]
    rows = {(row["plan"]["code"], row["interval"], row["currency"]): row for row in data}
    starter = rows[("starter", "month", "USD")]
    assert starter["list_price"] == {"amount": "19.00", "currency": "USD"}
    assert starter["wholesale_price"] == {"amount": "15.20", "currency": "USD"}
    assert starter["price"] == {"amount": "25.00", "currency": "USD"}
    assert starter["margin"] == {"amount": "9.80", "currency": "USD"}
    assert rows[("pro", "month", "USD")]["price"] is None


def test_a_price_below_wholesale_is_a_400_with_the_wholesale_figure():
    response = put(api(reseller_make()), {"prices": [entry(), entry(plan="pro", amount="1.00")]})
    error = response.json()["error"]
    assert response.status_code == 400 and error["code"] == "reseller_price_below_wholesale"
    assert error["details"]["wholesale"] == {"amount": "79.20", "currency": "USD"} and error["details"]["index"] == 1
    assert not ResellerPrice.objects.exists()


def test_null_withdraws_a_price():
    agency = reseller_make()
    put(api(agency), {"prices": [entry()]})
    response = put(api(agency), {"prices": [entry(amount=None)]})
    assert response.status_code == 200
    assert not ResellerPrice.objects.filter(agency=agency, is_active=True).exists()


def test_a_currency_the_plan_is_not_sold_in_is_a_400():
    response = put(api(reseller_make()), {"prices": [entry(currency="JPY")]})
    assert (response.status_code, response.json()["error"]["code"]) == (400, "reseller_price_currency_unavailable")


def test_a_workspace_that_is_no_agency_is_refused(tenant_alpha):
    for response in (api(tenant_alpha).get(PATH), put(api(tenant_alpha), {"prices": [entry()]})):
        assert (response.status_code, response.json()["error"]["code"]) == (403, "not_an_agency")


def test_a_referral_agency_is_refused_with_not_a_reseller():
    agency = reseller_make(mode=AgencyProfile.EarningsMode.REFERRAL)
    response = put(api(agency), {"prices": [entry()]})
    assert (response.status_code, response.json()["error"]["code"]) == (403, "not_a_reseller")


def test_an_agency_without_white_label_is_asked_to_upgrade():
    response = put(api(reseller_make(plan_code="agency")), {"prices": [entry()]})
    assert (response.status_code, response.json()["error"]["code"]) == (402, "plan_upgrade_required")


def test_a_key_without_the_agency_scope_is_refused():
    response = api(reseller_make(), scopes=("read", "write", "billing")).get(PATH)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "insufficient_scope")


@pytest.mark.parametrize("body", [
    "not json", "[]", "null", "{}", {"prices": []}, {"prices": "starter"}, {"prices": [None]}, {"prices": [{}]},
    {"prices": [entry(amount=25)]}, {"prices": [entry(amount=True)]}, {"prices": [entry(amount="1e400")]},
    {"prices": [entry(amount="-0.01")]}, {"prices": [entry(amount="")]}, {"prices": [entry(plan=["starter"])]},
    {"prices": [entry(currency="usd")]}, {"prices": [entry(interval="week")]}, {"prices": [entry(extra=1)]},
    {"prices": [entry()], "unknown": 1}, {"prices": [entry(plan="x" * 500)]}, {"prices": [entry()] * 201},
    {"prices": [entry(amount="\u0661\u0662")]}, {"prices": [entry(plan="starter\u0000")]},
])
def test_malformed_bodies_are_answered_with_a_json_4xx(body):
    response = put(api(reseller_make()), body)
    assert 400 <= response.status_code < 500, response.content[:300]
    assert set(response.json()["error"]) >= {"code", "message", "details"}
    assert not ResellerPrice.objects.exists()
