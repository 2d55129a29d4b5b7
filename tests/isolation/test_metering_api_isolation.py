"""Usage of tenant B is never written or read through tenant A's keys, and A's answers carry only A's usage."""

import json

import pytest

from metering.models import UsageRollup
from tests.support.api import api_client, api_key_for

pytestmark = pytest.mark.django_db

ENDPOINTS = [("POST", "/api/v1/events"), ("GET", "/api/v1/usage?meter=coach_messages"),
             ("GET", "/api/v1/usage/summary")]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_a_key_of_tenant_a_is_refused_on_tenant_bs_usage_endpoints(tenant_alpha, tenant_beta, method, path):
    client = api_client(tenant_beta, api_key_for(tenant_alpha, scopes=["usage:write", "read"]))

    response = client.generic(method, path, json.dumps({"transaction_id": "x", "meter": "coach_messages"}),
                              content_type="application/json")

    assert response.status_code == 401
    assert not UsageRollup.objects.filter(tenant=tenant_beta).exists()


def test_usage_answers_of_tenant_a_never_include_tenant_bs_events(tenant_alpha, tenant_beta):
    alpha = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["usage:write", "read"]))
    beta = api_client(tenant_beta, api_key_for(tenant_beta, scopes=["usage:write", "read"]))
    alpha.post("/api/v1/events", {"events": [{"transaction_id": f"a{n}", "meter": "coach_messages"}
                                             for n in range(3)]}, content_type="application/json")
    beta.post("/api/v1/events", {"events": [{"transaction_id": f"a{n}", "meter": "coach_messages"}
                                            for n in range(7)]}, content_type="application/json")

    series = alpha.get("/api/v1/usage", {"meter": "coach_messages", "granularity": "month"}).json()
    summary = alpha.get("/api/v1/usage/summary").json()

    assert sum(int(point["value"]) for point in series["data"]) == 3
    assert next(m for m in summary["meters"] if m["meter"] == "coach_messages")["usage"] == "3"
