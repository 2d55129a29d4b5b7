import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Plan, TenantPlan
from metering.models import Meter
from metering.usage.selectors import month_bounds, usage_for_period
from metering.usage.services import event_ingest
from tests.support.api import api_client, api_key_for
from tests.support.factories import MeterFactory
from tests.support.usage import seconds

pytestmark = pytest.mark.django_db

PLATFORM_METERS = ["api_calls", "ai_input_tokens", "ai_output_tokens", "coach_messages"]


@pytest.fixture
def usage_client(tenant_alpha):
    return api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["usage:write", "read"]))


def post_events(client, body):
    return client.post("/api/v1/events", json.dumps(body), content_type="application/json")


def this_month_total(tenant, code: str) -> Decimal:
    start, end = month_bounds(timezone.now())
    return usage_for_period(tenant=tenant, meter=Meter.objects.get(code=code), start=start, end=end)


def test_one_event_is_accepted(usage_client):
    response = post_events(usage_client, seconds("t1"))

    assert response.status_code == 200
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}


def test_a_batch_stores_valid_events_and_reports_the_rest_by_index(usage_client):
    response = post_events(usage_client, {"events": [
        seconds("a"), {"transaction_id": "b", "meter": "no-such-meter"}, seconds("a"),
    ]})

    body = response.json()
    assert (body["accepted"], body["duplicates"]) == (2, 1)
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [(1, "unknown_meter")]


def test_a_retried_batch_counts_only_duplicates(usage_client):
    batch = {"events": [seconds(f"r{n}") for n in range(5)]}
    post_events(usage_client, batch)

    again = post_events(usage_client, batch).json()

    assert (again["accepted"], again["duplicates"]) == (5, 5)


def test_a_batch_over_1000_events_is_refused_whole(usage_client):
    response = post_events(usage_client, {"events": [seconds(str(n)) for n in range(1001)]})

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"limit": 1000, "received": 1001}


@pytest.mark.parametrize("body", [[], "text", {"events": []}, {"events": "x"}, {"events": [], "extra": 1}])
def test_a_body_that_is_neither_an_event_nor_a_batch_is_invalid(usage_client, body):
    response = post_events(usage_client, body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_the_events_endpoint_accepts_bodies_up_to_5_mb(usage_client):
    events = [{"transaction_id": f"big{n}", "meter": "compute_seconds", "properties": {"seconds": 1, "note": "x" * 3800}}
              for n in range(1000)]
    body = json.dumps({"events": events})
    assert 3_500_000 < len(body) < 5 * 1024 * 1024

    response = usage_client.post("/api/v1/events", body, content_type="application/json")

    assert response.status_code == 200
    assert response.json()["accepted"] == 1000


def test_the_events_endpoint_refuses_bodies_over_5_mb(usage_client):
    body = json.dumps({"events": [{"transaction_id": "x", "meter": "compute_seconds", "properties": {
        "seconds": 1, "note": "x" * (5 * 1024 * 1024)}}]})

    response = usage_client.post("/api/v1/events", body, content_type="application/json")

    assert response.status_code == 413


def test_sending_events_needs_the_usage_write_scope(tenant_alpha):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["read", "write"]))

    response = post_events(client, seconds("t"))

    assert response.status_code == 403
    assert response.json()["error"]["details"]["required_scope"] == "usage:write"


# --- Meters the platform writes, negative values ---------------------------------------------------

def test_tenant_cannot_erase_ai_usage_with_negative_event(tenant_alpha, usage_client):
    event_ingest(tenant=tenant_alpha, events=[
        {"transaction_id": "ai:req-1:input", "meter": "ai_input_tokens", "properties": {"tokens": 120_000}}])

    response = post_events(usage_client, {"transaction_id": "erase", "meter": "ai_input_tokens",
                                          "properties": {"tokens": -10**15}})

    assert response.status_code == 200
    assert response.json()["accepted"] == 0
    assert [r["code"] for r in response.json()["rejected"]] == ["meter_not_writable"]
    assert this_month_total(tenant_alpha, "ai_input_tokens") == 120_000


@pytest.mark.parametrize("code", PLATFORM_METERS)
def test_tenant_cannot_write_platform_meter_api_calls(tenant_alpha, usage_client, code):
    response = post_events(usage_client, {"events": [
        {"transaction_id": "forged", "meter": code, "properties": {"tokens": 10**6, "billable": True}},
        seconds("honest"),
    ]})

    body = response.json()
    assert body["accepted"] == 1
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [(0, "meter_not_writable")]
    assert this_month_total(tenant_alpha, code) == 0


def test_a_negative_value_on_a_tenant_meter_is_rejected_per_event(tenant_alpha, usage_client):
    post_events(usage_client, seconds("run", 300))

    response = post_events(usage_client, {"events": [seconds("undo", -300), seconds("more", 5)]})

    assert [(r["index"], r["code"]) for r in response.json()["rejected"]] == [(0, "negative_value")]
    assert this_month_total(tenant_alpha, "compute_seconds") == 305


# --- Usage over time -------------------------------------------------------------------------------

def test_usage_series_answers_buckets_with_exact_decimal_values(usage_client):
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    post_events(usage_client, {"events": [seconds("u1", 2.5, timestamp=now.isoformat()),
                                          seconds("u2", 10, timestamp=now.isoformat())]})

    response = usage_client.get("/api/v1/usage", {
        "meter": "compute_seconds", "granularity": "hour",
        "from": (now - timedelta(hours=2)).isoformat(), "to": (now + timedelta(minutes=1)).isoformat()})

    assert response.status_code == 200
    values = [point["value"] for point in response.json()["data"]]
    assert values == ["0", "0", "12.5"]


def test_usage_series_buckets_are_utc_days_whatever_offset_the_range_is_given_in(usage_client):
    now = timezone.now()
    post_events(usage_client, seconds("today", 7, timestamp=now.isoformat()))
    kolkata = timezone.get_fixed_timezone(330)

    response = usage_client.get("/api/v1/usage", {
        "meter": "compute_seconds", "granularity": "day",
        "from": (now - timedelta(days=2)).astimezone(kolkata).isoformat(),
        "to": (now + timedelta(minutes=1)).astimezone(kolkata).isoformat()})

    data = response.json()["data"]
    assert all(point["start"].endswith("T00:00:00Z") for point in data)
    assert [point["value"] for point in data][-1] == "7"


@pytest.mark.parametrize("query", [{}, {"meter": "nope"}, {"meter": "api_calls", "granularity": "week"},
                                   {"meter": "api_calls", "from": "yesterday"},
                                   {"meter": "api_calls", "from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
                                   {"meter": "api_calls", "granularity": "hour", "from": "2020-01-01T00:00:00Z"}])
def test_a_bad_usage_query_is_an_invalid_request(usage_client, query):
    response = usage_client.get("/api/v1/usage", query)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


# Inputs that once answered 500 (date and bucket overflow), and their neighbours.
KNOWN_BAD_QUERIES = {
    "to_in_year_1": ({"to": "0001-01-05T00:00:00Z"}, "to"),
    "to_in_the_last_hour_of_year_9999": ({"to": "9999-12-31T23:00:00Z", "granularity": "month"}, "to"),
    "from_in_year_1_east_of_utc": ({"from": "0001-01-01T00:00:00+01:00"}, "from"),
    "to_past_year_9999_in_utc": ({"to": "9999-12-31T23:59:59-23:59"}, "to"),
    "to_year_9999_hourly": ({"to": "9999-12-31T23:59:59Z", "from": "9999-12-31T00:00:00Z",
                             "granularity": "hour"}, "to"),
    "from_before_2000": ({"from": "1999-12-31T23:59:59Z", "to": "2000-01-02T00:00:00Z"}, "from"),
    "from_after_to": ({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "from"),
    "a_century_of_hours": ({"from": "2000-01-01T00:00:00Z", "to": "2099-12-31T00:00:00Z",
                            "granularity": "hour"}, "granularity"),
    "a_meter_code_of_10000_characters": ({"meter": "m" * 10_000}, "meter"),
    "a_date_without_timezone": ({"from": "2026-01-01"}, "from"),
}


@pytest.mark.parametrize(("query", "field"), KNOWN_BAD_QUERIES.values(), ids=KNOWN_BAD_QUERIES.keys())
def test_known_bad_inputs_answer_400_not_500(usage_client, query, field):
    response = usage_client.get("/api/v1/usage", {"meter": "compute_seconds", **query})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"] and field in error["details"]["fields"]


@pytest.fixture
def active_users(db) -> Meter:
    return MeterFactory(code="active_users", aggregation="unique_count", event_property="user")


# Events that once failed their whole batch with a 500, or would now: each is rejected alone.
KNOWN_BAD_EVENTS = {
    "unique_value_of_256_characters": ({"meter": "active_users", "properties": {"user": "u" * 256}},
                                       "invalid_value"),
    "unique_value_of_a_float_with_301_digits": ({"meter": "active_users", "properties": {"user": 1e300}},
                                                "invalid_value"),
    "sum_of_2_to_the_63": ({"meter": "compute_seconds", "properties": {"seconds": 2**63}}, "invalid_value"),
    "negative_sum": ({"meter": "compute_seconds", "properties": {"seconds": -1}}, "negative_value"),
    "number_as_text": ({"meter": "compute_seconds", "properties": {"seconds": "12"}}, "invalid_value"),
    "platform_meter": ({"meter": "ai_output_tokens", "properties": {"tokens": 1}}, "meter_not_writable"),
    "timestamp_in_year_1_east_of_utc": ({"meter": "compute_seconds", "timestamp": "0001-01-01T00:00:00+01:00",
                                         "properties": {"seconds": 1}}, "timestamp_out_of_range"),
    "timestamp_in_year_9999_west_of_utc": ({"meter": "compute_seconds", "timestamp": "9999-12-31T23:59:59-23:59",
                                            "properties": {"seconds": 1}}, "timestamp_out_of_range"),
}


@pytest.mark.parametrize(("event", "code"), KNOWN_BAD_EVENTS.values(), ids=KNOWN_BAD_EVENTS.keys())
def test_known_bad_events_are_rejected_alone_not_500(usage_client, active_users, event, code):
    batch = [{"transaction_id": f"ok{n}", "meter": "active_users", "properties": {"user": f"u{n}"}}
             for n in range(999)]

    response = post_events(usage_client, {"events": [*batch, {"transaction_id": "bad", **event}]})

    assert response.status_code == 200
    assert response.json()["accepted"] == 999
    assert [(r["index"], r["code"]) for r in response.json()["rejected"]] == [(999, code)]


def test_usage_summary_compares_this_month_with_the_plans_quota(tenant_alpha, usage_client):
    TenantPlan.objects.create(tenant=tenant_alpha, plan=Plan.objects.get(code="free"))
    start, _ = month_bounds(timezone.now())
    moment = max(start, timezone.now() - timedelta(minutes=1))
    event_ingest(tenant=tenant_alpha, events=[
        {"transaction_id": f"c{n}", "meter": "api_calls", "timestamp": moment.isoformat(),
         "properties": {"billable": True}} for n in range(250)])

    summary = usage_client.get("/api/v1/usage/summary").json()

    assert summary["plan"] == "free"
    calls = next(item for item in summary["meters"] if item["meter"] == "api_calls")
    assert calls == {"meter": "api_calls", "name": "API calls", "unit": "calls", "usage": "250", "limit": "1000",
                     "behaviour": "hard", "percent_used": 25.0}


# --- The schema says what the API accepts ----------------------------------------------------------

@pytest.fixture
def schema(tenant_alpha, active_users) -> dict:
    return api_client(tenant_alpha).get("/api/schema/", {"format": "json"}).json()


def test_the_schema_lists_the_meters_usage_can_be_asked_for(schema):
    meter = next(p for p in schema["paths"]["/api/v1/usage"]["get"]["parameters"] if p["name"] == "meter")

    assert meter["required"] is True
    assert resolved(schema, meter["schema"])["enum"] == sorted(Meter.objects.filter(is_active=True)
                                                               .values_list("code", flat=True))


def test_the_schema_lists_only_the_meters_tenants_may_send_events_to(schema):
    event = schema["components"]["schemas"]["UsageEventRequest"]

    assert resolved(schema, event["properties"]["meter"])["enum"] == ["active_users", "compute_seconds",
                                                                      "storage_gb"]


def test_the_schema_bounds_the_usage_range_and_its_buckets(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/usage"]["get"]["parameters"]}

    assert "2000-01-01 to 2100-01-01" in parameters["from"]["description"]
    assert set(resolved(schema, parameters["granularity"]["schema"])["enum"]) == {"hour", "day", "month"}


def resolved(schema: dict, node: dict) -> dict:
    if "$ref" in node:
        return schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    if "allOf" in node:
        return resolved(schema, node["allOf"][0])
    return node
