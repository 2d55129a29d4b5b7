import json
import re
from datetime import datetime, timezone

import pytest

from accounts.models import User
from metering.models import Meter
from metering.usage.services import event_ingest

pytestmark = pytest.mark.django_db

METERS = "/admin/metering/meter/"
EXPLORER = "/admin/metering/meter/usage-explorer/"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
NEW_METER = {"code": "images", "name": "Images generated", "unit": "images", "aggregation": "count",
             "event_property": "", "filters": "{}", "is_active": "on"}


@pytest.fixture
def admin_client(public_client, db):
    public_client.force_login(User.objects.create_superuser("operator@tollgate.test", "pw-operator-123"))
    return public_client


def tokens(tenant, *amounts: int, day: int = 18) -> None:
    events = [{"transaction_id": f"t{day}-{n}", "meter": "ai_input_tokens",
               "timestamp": f"2026-11-{day:02d}T09:{n:02d}:00Z", "properties": {"tokens": amount}}
              for n, amount in enumerate(amounts)]
    assert event_ingest(tenant=tenant, events=events, now=NOW).accepted == len(amounts)


def explore(client, **params):
    query = {"tenant": "alpha", "meter": "ai_input_tokens", "start": "2026-11-01", "end": "2026-11-20",
             "granularity": "day", **params}
    return client.get(EXPLORER, query)


def total_shown(response) -> str:
    return re.search(rb'id="usage-total">([^<]*)<', response.content).group(1).decode()


# --- Meters ---------------------------------------------------------------------------------------

def test_meter_list_shows_the_seeded_meters_and_links_the_explorer(admin_client):
    response = admin_client.get(METERS)

    assert response.status_code == 200
    assert b"ai_input_tokens" in response.content and b"storage_gb" in response.content
    assert EXPLORER.encode() in response.content


def test_meters_are_searchable_by_code_or_name(admin_client):
    response = admin_client.get(METERS, {"q": "storage"})

    assert b"storage_gb" in response.content and b"api_calls" not in response.content


def test_meters_filter_by_aggregation(admin_client):
    response = admin_client.get(METERS, {"aggregation__exact": "latest"})

    assert b"storage_gb" in response.content and b"ai_input_tokens" not in response.content


def test_meters_filter_by_active(admin_client):
    Meter.objects.filter(code="coach_messages").update(is_active=False)

    response = admin_client.get(METERS, {"is_active__exact": "0"})

    assert b"coach_messages" in response.content and b"api_calls" not in response.content


def test_a_meter_is_added_from_the_admin(admin_client):
    response = admin_client.post(f"{METERS}add/", NEW_METER)

    assert response.status_code == 302
    assert Meter.objects.get(code="images").aggregation == "count"


def test_a_sum_meter_without_its_property_is_refused_on_that_field(admin_client):
    response = admin_client.post(f"{METERS}add/", {**NEW_METER, "aggregation": "sum"})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["event_property"] == [
        "This aggregation needs the event property it reads."]
    assert not Meter.objects.filter(code="images").exists()


def test_filters_that_are_not_an_object_are_refused_on_that_field(admin_client):
    response = admin_client.post(f"{METERS}add/", {**NEW_METER, "filters": '["billable"]'})

    assert response.context["adminform"].form.errors["filters"] == [
        "Filters are an object of property: value pairs."]


def test_a_meters_code_cannot_be_changed(admin_client):
    meter = Meter.objects.get(code="coach_messages")

    response = admin_client.post(f"{METERS}{meter.pk}/change/", {**NEW_METER, "code": "renamed", "name": "Coach"})

    assert response.status_code == 302
    meter.refresh_from_db()
    assert (meter.code, meter.name) == ("coach_messages", "Coach")


def test_meters_cannot_be_deleted(admin_client):
    meter = Meter.objects.get(code="api_calls")

    assert admin_client.get(f"{METERS}{meter.pk}/delete/").status_code == 403


# --- Usage explorer -------------------------------------------------------------------------------

def test_the_explorer_opens_with_an_empty_form(admin_client):
    response = admin_client.get(EXPLORER)

    assert response.status_code == 200
    assert b'name="tenant"' in response.content and b'id="usage-total"' not in response.content


def test_the_explorer_shows_the_chosen_tenants_total_and_days(admin_client, tenant_alpha):
    tokens(tenant_alpha, 100, 23, day=18)
    tokens(tenant_alpha, 7, day=19)

    response = explore(admin_client)

    assert total_shown(response) == "130"
    assert re.search(rb"<td>18 Nov 2026</td>\s*<td>123</td>", response.content)
    assert re.search(rb"<td>19 Nov 2026</td>\s*<td>7</td>", response.content)
    assert len(response.context["report"]["rows"]) == 20


def test_the_explorer_total_covers_exactly_the_days_chosen(admin_client, tenant_alpha):
    tokens(tenant_alpha, 100, day=18)
    tokens(tenant_alpha, 7, day=19)

    response = explore(admin_client, start="2026-11-19", end="2026-11-19")

    assert total_shown(response) == "7"


def test_the_explorer_shows_only_the_chosen_tenant(admin_client, tenant_alpha, tenant_beta):
    tokens(tenant_alpha, 5)
    tokens(tenant_beta, 900)

    response = explore(admin_client, tenant="beta")

    assert total_shown(response) == "900"
    assert b"<td>5</td>" not in response.content


def test_the_explorer_lists_hours(admin_client, tenant_alpha):
    tokens(tenant_alpha, 40, day=18)

    response = explore(admin_client, start="2026-11-18", end="2026-11-18", granularity="hour")

    assert len(response.context["report"]["rows"]) == 24
    assert re.search(rb"<td>18 Nov 2026 09:00</td>\s*<td>40</td>", response.content)


def test_the_explorer_refuses_an_end_before_the_start(admin_client):
    response = explore(admin_client, start="2026-11-10", end="2026-11-01")

    assert response.context["form"].errors["end"] == ["The last day is before the first."]
    assert b'id="usage-total"' not in response.content


def test_the_explorer_refuses_too_many_hours(admin_client):
    response = explore(admin_client, start="2026-01-01", end="2026-11-01", granularity="hour")

    assert "choose a shorter period" in response.context["form"].non_field_errors()[0]


def test_the_explorer_is_for_ops_only(public_client):
    response = public_client.get(EXPLORER)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def change_form(meter: Meter, **changes) -> dict:
    fields = {"code": meter.code, "name": meter.name, "unit": meter.unit, "aggregation": meter.aggregation,
              "event_property": meter.event_property, "filters": json.dumps(meter.filters), "is_active": "on"}
    return {**fields, **changes}


def test_meter_definition_frozen_once_events_exist(admin_client, tenant_alpha):
    tokens(tenant_alpha, 10)
    meter = Meter.objects.get(code="ai_input_tokens")

    page = admin_client.get(f"{METERS}{meter.pk}/change/")
    response = admin_client.post(f"{METERS}{meter.pk}/change/", change_form(
        meter, aggregation="max", event_property="cached", filters='{"model": "x"}', name="Input tokens"))

    assert {"aggregation", "event_property", "filters"} <= set(page.context["adminform"].readonly_fields)
    assert not {"aggregation", "event_property", "filters"} & set(page.context["adminform"].form.fields)
    assert response.status_code == 302
    meter.refresh_from_db()
    assert (meter.aggregation, meter.event_property, meter.filters, meter.name) == ("sum", "tokens", {},
                                                                                    "Input tokens")


def test_meter_definition_editable_before_first_event(admin_client):
    meter = Meter.objects.get(code="compute_seconds")

    response = admin_client.post(f"{METERS}{meter.pk}/change/", change_form(
        meter, aggregation="max", event_property="cpu", filters='{"region": "eu"}'))

    assert response.status_code == 302
    meter.refresh_from_db()
    assert (meter.aggregation, meter.event_property, meter.filters) == ("max", "cpu", {"region": "eu"})


def test_ops_allow_negative_values_on_a_meter_but_cannot_open_a_platform_meter_to_tenants(admin_client):
    meter = Meter.objects.get(code="api_calls")

    admin_client.post(f"{METERS}{meter.pk}/change/", change_form(meter, allow_negative="on", platform_owned=""))

    meter.refresh_from_db()
    assert (meter.allow_negative, meter.platform_owned) == (True, True)
