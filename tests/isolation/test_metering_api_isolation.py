"""Usage of tenant B is never written or read through tenant A's keys, and A's answers carry only A's usage."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from metering.models import UsageRollup
from tests.support.api import api_client, api_key_for
from tests.support.factories import MeterFactory
from tests.support.usage import seconds

pytestmark = pytest.mark.django_db

ENDPOINTS = [("POST", "/api/v1/events"), ("GET", "/api/v1/usage?meter=compute_seconds"),
             ("GET", "/api/v1/usage/summary")]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_a_key_of_tenant_a_is_refused_on_tenant_bs_usage_endpoints(tenant_alpha, tenant_beta, method, path):
    client = api_client(tenant_beta, api_key_for(tenant_alpha, scopes=["usage:write", "read"]))

    response = client.generic(method, path, json.dumps(seconds("x")), content_type="application/json")

    assert response.status_code == 401
    assert not UsageRollup.objects.filter(tenant=tenant_beta).exists()


def test_usage_answers_of_tenant_a_never_include_tenant_bs_events(tenant_alpha, tenant_beta):
    alpha = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["usage:write", "read"]))
    beta = api_client(tenant_beta, api_key_for(tenant_beta, scopes=["usage:write", "read"]))
    alpha.post("/api/v1/events", {"events": [seconds(f"a{n}") for n in range(3)]}, content_type="application/json")
    beta.post("/api/v1/events", {"events": [seconds(f"a{n}") for n in range(7)]}, content_type="application/json")

    series = alpha.get("/api/v1/usage", {"meter": "compute_seconds", "granularity": "month"}).json()
    summary = alpha.get("/api/v1/usage/summary").json()

    assert sum(int(point["value"]) for point in series["data"]) == 3
    assert next(m for m in summary["meters"] if m["meter"] == "compute_seconds")["usage"] == "3"


def test_tenant_bs_events_to_a_meter_code_never_show_in_as_usage_of_that_meter(tenant_alpha, tenant_beta):
    MeterFactory(code="active_users", aggregation="unique_count", event_property="user")
    beta = api_client(tenant_beta, api_key_for(tenant_beta, scopes=["usage:write"]))
    alpha = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["read"]))
    sent = beta.post("/api/v1/events", {"events": [
        {"transaction_id": f"b{n}", "meter": code, "properties": {"seconds": 50, "gb": 9, "user": f"u{n}"}}
        for n, code in enumerate(["compute_seconds", "storage_gb", "active_users"])]}, content_type="application/json")
    assert sent.json()["accepted"] == 3

    for code in ["compute_seconds", "storage_gb", "active_users"]:
        for granularity in ["hour", "day", "month"]:
            series = alpha.get("/api/v1/usage", {"meter": code, "granularity": granularity,
                                                 "from": (timezone.now() - timedelta(days=3)).isoformat()}).json()
            assert {point["value"] for point in series["data"]} == {"0"}, (code, granularity)
    summary = alpha.get("/api/v1/usage/summary").json()
    assert {m["usage"] for m in summary["meters"]} == {"0"}
