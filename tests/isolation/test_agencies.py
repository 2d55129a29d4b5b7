"""Agencies see only their own clients, clients only their own grant, and a grant or hand-off for one client never
opens another: between two agencies, and between two clients of one agency."""

import pytest

from affiliates.agencies.exceptions import AgencyAccessRefused, ClientNotFound, HandoffInvalid
from affiliates.agencies.handoff import handoff_consume, handoff_create
from affiliates.models import AgencyAccessGrant
from tests.support.agencies import agency_make, client_make, grant_make, path_of, signed_in
from tests.support.api import api_client, api_key_for
from tests.support.tenants import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Agency one with two clients (only the first granted access), agency two with one client (granted)."""
    one, two = agency_make("agency-one"), agency_make("agency-two")
    first, second, theirs = client_make(one, "client-one"), client_make(one, "client-two"), client_make(two, "client-x")
    grant_make(first)
    grant_make(theirs)
    return {"one": one, "two": two, "first": first, "second": second, "theirs": theirs}


def link(agency, client) -> str:
    return path_of(handoff_create(agency=agency, client_slug=client.slug, staff_email="staff@agency.test",
                                  staff_has_mfa=False, second_factor_verified=False))


def test_an_agency_cannot_open_another_agencys_client(world):
    with pytest.raises(ClientNotFound):
        link(world["one"], world["theirs"])
    response = signed_in(world["one"]).post("/clients/client-x/open/")
    assert response["Location"] == "/clients/"


def test_an_agency_api_never_answers_for_another_agencys_client(world):
    api = api_client(world["one"], api_key_for(world["one"], scopes=["agency"]))
    assert [client["slug"] for client in api.get("/api/v1/clients").json()["data"]] == ["client-two", "client-one"]
    for path in ("/api/v1/clients/client-x", "/api/v1/clients/client-x/invoices"):
        response = api.get(path)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_an_agency_dashboard_lists_only_its_own_clients(world):
    page = signed_in(world["two"]).get("/clients/").content.decode()
    assert "Client X" in page and "Client One" not in page and "Client Two" not in page


def test_one_clients_grant_does_not_open_its_sibling(world):
    with pytest.raises(AgencyAccessRefused):
        link(world["one"], world["second"])


def test_a_handoff_for_one_client_is_refused_on_its_siblings_host(world):
    token = link(world["one"], world["first"]).split("/")[-2]
    with pytest.raises(HandoffInvalid):
        handoff_consume(token=token, client=world["second"])
    page = client_for(world["second"]).get(f"/agency/handoff/{token}/")
    assert "another workspace" in page.content.decode()


def test_an_agency_session_on_one_client_is_not_signed_in_on_its_sibling(world):
    browser = client_for(world["first"])
    browser.get(link(world["one"], world["first"]))
    assert browser.get("/").status_code == 200
    sibling = client_for(world["second"])
    sibling.cookies = browser.cookies  # the same browser on the sibling's host
    assert sibling.get("/").status_code == 302  # sessions live in each client's schema


def test_a_clients_owner_sees_and_revokes_only_its_own_grant(world):
    page = signed_in(world["second"])
    assert "agency-access-current" not in page.get("/settings/agency-access/").content.decode()
    page.post("/settings/agency-access/revoke/")
    assert AgencyAccessGrant.objects.filter(revoked_at__isnull=True).count() == 2


def test_a_client_cannot_list_clients_of_its_agency(world):
    api = api_client(world["first"], api_key_for(world["first"], scopes=["agency"]))
    assert api.get("/api/v1/clients").json()["error"]["code"] == "not_an_agency"
    assert signed_in(world["first"]).get("/clients/").status_code == 404


def test_an_agency_cannot_resend_another_agencys_client_invitation(world):
    assert signed_in(world["two"]).post("/clients/client-one/invitation/").status_code == 404
