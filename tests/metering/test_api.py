import json
from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Plan, TenantPlan
from billing.selectors import entitlements_forget
from metering.selectors import month_bounds
from tests.support.api import api_client, api_key_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def usage_client(tenant_alpha):
    return api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["usage:write", "read"]))


def post_events(client, body):
    return client.post("/api/v1/events", json.dumps(body), content_type="application/json")


def test_one_event_is_accepted(usage_client):
    response = post_events(usage_client, {"transaction_id": "t1", "meter": "coach_messages"})

    assert response.status_code == 200
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}


def test_a_batch_stores_valid_events_and_reports_the_rest_by_index(usage_client):
    response = post_events(usage_client, {"events": [
        {"transaction_id": "a", "meter": "coach_messages"},
        {"transaction_id": "b", "meter": "no-such-meter"},
        {"transaction_id": "a", "meter": "coach_messages"},
    ]})

    body = response.json()
    assert (body["accepted"], body["duplicates"]) == (2, 1)
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [(1, "unknown_meter")]


def test_a_retried_batch_counts_only_duplicates(usage_client):
    batch = {"events": [{"transaction_id": f"r{n}", "meter": "coach_messages"} for n in range(5)]}
    post_events(usage_client, batch)

    again = post_events(usage_client, batch).json()

    assert (again["accepted"], again["duplicates"]) == (5, 5)


def test_a_batch_over_1000_events_is_refused_whole(usage_client):
    response = post_events(usage_client, {"events": [{"transaction_id": str(n), "meter": "coach_messages"}
                                                     for n in range(1001)]})

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"limit": 1000, "received": 1001}


@pytest.mark.parametrize("body", [[], "text", {"events": []}, {"events": "x"}, {"events": [], "extra": 1}])
def test_a_body_that_is_neither_an_event_nor_a_batch_is_invalid(usage_client, body):
    response = post_events(usage_client, body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_the_events_endpoint_accepts_bodies_up_to_5_mb(usage_client):
    events = [{"transaction_id": f"big{n}", "meter": "coach_messages", "properties": {"note": "x" * 3800}}
              for n in range(1000)]
    body = json.dumps({"events": events})
    assert 3_500_000 < len(body) < 5 * 1024 * 1024

    response = usage_client.post("/api/v1/events", body, content_type="application/json")

    assert response.status_code == 200
    assert response.json()["accepted"] == 1000


def test_the_events_endpoint_refuses_bodies_over_5_mb(usage_client):
    body = json.dumps({"events": [{"transaction_id": "x", "meter": "coach_messages", "properties": {
        "note": "x" * (5 * 1024 * 1024)}}]})

    response = usage_client.post("/api/v1/events", body, content_type="application/json")

    assert response.status_code == 413


def test_sending_events_needs_the_usage_write_scope(tenant_alpha):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["read", "write"]))

    response = post_events(client, {"transaction_id": "t", "meter": "coach_messages"})

    assert response.status_code == 403
    assert response.json()["error"]["details"]["required_scope"] == "usage:write"


def test_usage_series_answers_buckets_with_exact_decimal_values(usage_client):
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    post_events(usage_client, {"events": [
        {"transaction_id": "u1", "meter": "ai_input_tokens", "timestamp": now.isoformat(), "properties": {"tokens": 2.5}},
        {"transaction_id": "u2", "meter": "ai_input_tokens", "timestamp": now.isoformat(), "properties": {"tokens": 10}},
    ]})

    response = usage_client.get("/api/v1/usage", {
        "meter": "ai_input_tokens", "granularity": "hour",
        "from": (now - timedelta(hours=2)).isoformat(), "to": (now + timedelta(minutes=1)).isoformat()})

    assert response.status_code == 200
    values = [point["value"] for point in response.json()["data"]]
    assert values == ["0", "0", "12.5"]


@pytest.mark.parametrize("query", [{}, {"meter": "nope"}, {"meter": "api_calls", "granularity": "week"},
                                   {"meter": "api_calls", "from": "yesterday"},
                                   {"meter": "api_calls", "from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
                                   {"meter": "api_calls", "granularity": "hour", "from": "2020-01-01T00:00:00Z"}])
def test_a_bad_usage_query_is_an_invalid_request(usage_client, query):
    response = usage_client.get("/api/v1/usage", query)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_usage_summary_compares_this_month_with_the_plans_quota(tenant_alpha, usage_client):
    TenantPlan.objects.create(tenant=tenant_alpha, plan=Plan.objects.get(code="free"))
    entitlements_forget(tenant_alpha)
    start, _ = month_bounds(timezone.now())
    moment = max(start, timezone.now() - timedelta(minutes=1))
    post_events(usage_client, {"events": [
        {"transaction_id": f"c{n}", "meter": "api_calls", "timestamp": moment.isoformat(),
         "properties": {"billable": True}} for n in range(250)]})

    summary = usage_client.get("/api/v1/usage/summary").json()

    assert summary["plan"] == "free"
    calls = next(item for item in summary["meters"] if item["meter"] == "api_calls")
    assert calls == {"meter": "api_calls", "name": "API calls", "unit": "calls", "usage": "250", "limit": "1000",
                     "behaviour": "hard", "percent_used": 25.0}
