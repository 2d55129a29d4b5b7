"""Two browsers racing with one hand-off link: one is signed in, the other refused (the row lock makes the token
single-use even at the same instant). Committed data, each side on its own connection."""

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from affiliates.agencies.exceptions import HandoffInvalid
from affiliates.agencies.handoff import HandoffAccepted, handoff_consume, handoff_create
from tests.support.agencies import agency_make, client_make, grant_make, path_of
from tests.support.concurrency import run_together
from tests.support.tenants import tenant_purge


@pytest.fixture
def agency_and_client(committed_db):
    agency = agency_make("race-agency")
    client = client_make(agency, "race-client")
    grant_make(client)
    yield agency, client
    connection.set_schema_to_public()
    tenant_purge(client)  # before its agency: a client protects its parent agency
    tenant_purge(agency)


def test_two_browsers_racing_with_one_handoff_sign_in_once(agency_and_client):
    agency, client = agency_and_client
    token = path_of(handoff_create(agency=agency, client_slug=client.slug, staff_email="staff@race.test",
                                   staff_has_mfa=False, second_factor_verified=False)).split("/")[-2]

    def consume():
        with schema_context(client.schema_name):
            return handoff_consume(token=token, client=client)

    outcomes = run_together(consume, consume)
    assert sorted(type(outcome).__name__ for outcome in outcomes) == sorted(
        [HandoffAccepted.__name__, HandoffInvalid.__name__])
