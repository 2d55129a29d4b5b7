import json

import pytest
from django.conf import settings
from django.db import connection
from django_redis import get_redis_connection

from metering.models import UsageRollup
from metering.tracking import api_calls_flush
from tenants.models import ApiKey
from tests.metering.test_ai_api import ai, funded, upstream  # noqa: F401  (fixtures)
from tests.support.api import api_client, api_key_for

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

BUFFER_KEY = settings.API_CALLS_BUFFER_KEY


@pytest.fixture(autouse=True)
def empty_buffer():
    """Each test process has its own buffer (settings.API_CALLS_BUFFER_KEY); start each test with it empty."""
    get_redis_connection("default").delete(BUFFER_KEY)
    yield
    get_redis_connection("default").delete(BUFFER_KEY)


def tracked_calls(tenant) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT properties FROM metering_usageevent WHERE tenant_id = %s AND meter_code = 'api_calls'",
                       [tenant.pk])
        return [row[0] if isinstance(row[0], dict) else json.loads(row[0]) for row in cursor.fetchall()]


def test_api_calls_are_buffered_not_written_on_the_request_path(tenant_alpha):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))

    client.get("/api/v1/tenant")

    assert get_redis_connection("default").llen(BUFFER_KEY) == 1
    assert tracked_calls(tenant_alpha) == []


def test_a_flush_records_endpoint_method_status_and_key(tenant_alpha):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))
    key = ApiKey.objects.get(tenant=tenant_alpha)
    client.get("/api/v1/tenant")
    client.get("/api/v1/api-keys/")

    assert api_calls_flush() == 2

    calls = sorted(tracked_calls(tenant_alpha), key=lambda call: call["status"])
    assert [(c["endpoint"], c["method"], c["status"], c["billable"]) for c in calls] == [
        ("/api/v1/tenant", "GET", 200, True), ("unmatched", "GET", 404, False)]
    assert calls[0]["api_key_id"] == key.pk
    assert get_redis_connection("default").llen(BUFFER_KEY) == 0


def test_only_successful_calls_are_billable(tenant_alpha):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["read"]))
    client.get("/api/v1/tenant")
    client.post("/api/v1/api-keys", {"name": "x", "scopes": ["read"]}, content_type="application/json")

    api_calls_flush()

    assert len(tracked_calls(tenant_alpha)) == 2
    assert UsageRollup.objects.get(tenant=tenant_alpha, meter_code="api_calls").event_count == 1


def test_schema_docs_and_health_are_not_tracked(tenant_alpha, public_client):
    client = api_client(tenant_alpha)
    client.get("/api/schema/")
    client.get("/api/docs/")
    public_client.get("/healthz")

    assert get_redis_connection("default").llen(BUFFER_KEY) == 0


def test_a_flush_that_runs_twice_over_the_same_records_counts_them_once(tenant_alpha):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))
    client.get("/api/v1/tenant")
    redis = get_redis_connection("default")
    snapshot = redis.lrange(BUFFER_KEY, 0, -1)
    api_calls_flush()
    redis.rpush(BUFFER_KEY, *snapshot)

    api_calls_flush()

    assert len(tracked_calls(tenant_alpha)) == 1


def test_the_api_keeps_serving_when_redis_is_unreachable(tenant_alpha, monkeypatch):
    from metering import tracking

    def unreachable(alias):
        raise ConnectionError("redis down")

    client = api_client(tenant_alpha, api_key_for(tenant_alpha))
    monkeypatch.setattr(tracking, "get_redis_connection", unreachable)

    assert client.get("/api/v1/tenant").status_code == 200


def test_a_streamed_call_is_recorded_once_its_stream_has_been_sent(upstream, ai, funded):  # noqa: F811
    from tests.metering.test_ai_api import PROMPT, post

    upstream.answer_sse("basic_response")
    response = post(ai, {**PROMPT, "stream": True})
    assert get_redis_connection("default").llen(BUFFER_KEY) == 0  # the answer has not gone out yet

    b"".join(response.streaming_content)  # the server sends it all, then closes the response

    api_calls_flush()
    assert [(c["endpoint"], c["status"], c["billable"]) for c in tracked_calls(funded)] == [
        ("/api/v1/ai/messages", 200, True)]
