"""The agency API (scope agency): list, create, read a client and its invoices; errors in the JSON shape."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.support.agencies import agency_make, client_make, grant_make
from tests.support.api import api_client, api_key_for
from tests.support.billing import subscription_started
from tests.support.factories import PriceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency():
    return agency_make()


@pytest.fixture
def agency_api(agency):
    return api_client(agency, api_key_for(agency, scopes=["agency"]))


def test_the_agency_lists_its_clients(agency, agency_api):
    client_make(agency, "client-one")
    body = agency_api.get("/api/v1/clients").json()
    assert [client["slug"] for client in body["data"]] == ["client-one"]
    assert body["data"][0]["access"] == {"granted": False, "role": None}
    assert body["data"][0]["usage"] is None and body["data"][0]["health"] is None


def test_the_agency_creates_a_client(agency, agency_api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = agency_api.post("/api/v1/clients", {"name": "Api Client", "slug": "api-client",
                                                       "owner_email": "boss@api-client.test"},
                                   content_type="application/json", HTTP_IDEMPOTENCY_KEY="create-1")
    assert response.status_code == 201
    assert response.json()["slug"] == "api-client"
    assert agency.client_tenants.get().slug == "api-client"


def test_creating_the_same_client_again_answers_200_with_it(agency, agency_api):
    client_make(agency, "client-one")
    response = agency_api.post("/api/v1/clients", {"name": "Client One", "slug": "client-one",
                                                   "owner_email": "owner@client-one.test"},
                               content_type="application/json")
    assert response.status_code == 200 and response.json()["slug"] == "client-one"


def test_creating_a_client_without_the_entitlement_answers_402():
    agency = agency_make(plan_code=None)
    response = api_client(agency, api_key_for(agency, scopes=["agency"])).post(
        "/api/v1/clients", {"name": "X", "slug": "x-client", "owner_email": "x@x.test"},
        content_type="application/json")
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "plan_upgrade_required"


def test_a_key_without_the_agency_scope_is_refused(agency):
    response = api_client(agency, api_key_for(agency, scopes=["read"])).get("/api/v1/clients")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"


def test_a_business_tenant_is_not_an_agency(tenant_alpha):
    response = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["agency"])).get("/api/v1/clients")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_an_agency"


def test_a_client_reads_with_plan_status_and_mrr_and_usage_with_a_grant(agency, agency_api):
    client = client_make(agency, "client-one")
    grant_make(client)
    body = agency_api.get("/api/v1/clients/client-one").json()
    assert (body["slug"], body["status"], body["plan"]["code"]) == ("client-one", "active", "free")
    assert body["access"] == {"granted": True, "role": "admin"}
    assert isinstance(body["usage"], list)


def test_a_clients_invoices_are_listed(agency, agency_api):
    client = client_make(agency, "client-one")
    subscription_started(client, PriceFactory(), at=timezone.now() - timedelta(days=1))
    body = agency_api.get("/api/v1/clients/client-one/invoices").json()
    assert len(body["data"]) == 1
    assert body["data"][0]["total"] == {"amount": "99.00", "currency": "USD"}


def test_an_unknown_client_answers_404_in_the_error_shape(agency_api):
    response = agency_api.get("/api/v1/clients/nobody")
    assert response.status_code == 404
    assert set(response.json()["error"]) == {"code", "message", "details"}
