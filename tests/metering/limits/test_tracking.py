import json
import logging
import time
import uuid
from datetime import timedelta

import orjson
import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from config import lookup_cache
from config.redis_guard import redis_connection, redis_failed, redis_guard_reset
from metering.limits import tracking
from metering.limits.tracking import api_calls_flush, api_calls_key
from metering.models import UsageRollup
from tenants.models import ApiKey
from tests.support.anthropic import PROMPT, post
from tests.support.api import api_client, api_key_for

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

BUFFER_KEY = api_calls_key()
LOCK_KEY = api_calls_key("flush-lock")
REJECTED_KEY = api_calls_key("rejected")


def buffer_empty() -> None:
    tracking._pending.clear()
    redis = redis_connection()
    redis.delete(BUFFER_KEY, LOCK_KEY, REJECTED_KEY, f"{BUFFER_KEY}:processing",
                 *redis.keys(f"{BUFFER_KEY}:processing:*"))


@pytest.fixture(autouse=True)
def empty_buffer():
    """Each test process has its own buffer (its own KEY_PREFIX, config/settings/test.py); start each test with
    it empty."""
    buffer_empty()
    yield
    buffer_empty()


def tracked_calls(tenant) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT properties FROM metering_usageevent WHERE tenant_id = %s AND meter_code = 'api_calls'",
                       [tenant.pk])
        return [row[0] if isinstance(row[0], dict) else json.loads(row[0]) for row in cursor.fetchall()]


def test_api_calls_are_buffered_not_written_on_the_request_path(tenant_alpha):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))

    client.get("/api/v1/tenant")

    assert redis_connection().llen(BUFFER_KEY) == 1
    assert tracked_calls(tenant_alpha) == []


def test_recording_a_call_after_the_response_reads_no_lookup_generation_of_its_own(tenant_alpha, settings,
                                                                                   monkeypatch):
    # It asks for the plan's API-call quota: from the cache, under the request's read of the generation.
    settings.RATE_LIMITS_ENABLED = True
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))
    client.get("/api/v1/tenant")
    reads = []
    read = lookup_cache._generation_read

    def counted_read():
        reads.append(1)
        return read()

    monkeypatch.setattr(lookup_cache, "_generation_read", counted_read)

    client.get("/api/v1/tenant")

    assert len(reads) == 1
    assert redis_connection().llen(BUFFER_KEY) == 2


def test_a_flush_records_endpoint_method_status_and_key(tenant_alpha):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))
    key = ApiKey.objects.get(tenant=tenant_alpha)
    client.get("/api/v1/tenant")
    client.get("/api/v1/api-keys/")

    assert api_calls_flush().processed == 2

    calls = sorted(tracked_calls(tenant_alpha), key=lambda call: call["status"])
    assert [(c["endpoint"], c["method"], c["status"], c["billable"]) for c in calls] == [
        ("/api/v1/tenant", "GET", 200, True), ("unmatched", "GET", 404, False)]
    assert calls[0]["api_key_id"] == key.pk
    assert redis_connection().llen(BUFFER_KEY) == 0


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

    assert redis_connection().llen(BUFFER_KEY) == 0


def test_a_flush_that_runs_twice_over_the_same_records_counts_them_once(tenant_alpha):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))
    client.get("/api/v1/tenant")
    redis = redis_connection()
    snapshot = redis.lrange(BUFFER_KEY, 0, -1)
    api_calls_flush()
    redis.rpush(BUFFER_KEY, *snapshot)

    api_calls_flush()

    assert len(tracked_calls(tenant_alpha)) == 1


def test_the_api_keeps_serving_when_redis_is_unreachable(tenant_alpha, monkeypatch):
    def unreachable():
        raise ConnectionError("redis down")

    client = api_client(tenant_alpha, api_key_for(tenant_alpha))
    monkeypatch.setattr(tracking, "redis_connection", unreachable)

    assert client.get("/api/v1/tenant").status_code == 200


def test_calls_made_while_redis_was_skipped_are_recorded_once_it_is_back(tenant_alpha):
    # After a blip the process leaves Redis alone for a few seconds (config.redis_guard): its calls wait.
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))
    redis_failed(ConnectionError("a blip"))
    client.get("/api/v1/tenant")
    client.get("/api/v1/team/members")
    redis_guard_reset()

    client.get("/api/v1/wallet")
    api_calls_flush()

    assert sorted(call["endpoint"] for call in tracked_calls(tenant_alpha)) == [
        "/api/v1/team/members", "/api/v1/tenant", "/api/v1/wallet"]


def test_a_streamed_call_is_recorded_once_its_stream_has_been_sent(upstream, ai, funded):
    upstream.answer_sse("basic_response")
    response = post(ai, {**PROMPT, "stream": True})
    assert redis_connection().llen(BUFFER_KEY) == 0  # the answer has not gone out yet

    b"".join(response.streaming_content)  # the server sends it all, then closes the response

    api_calls_flush()
    assert [(c["endpoint"], c["status"], c["billable"]) for c in tracked_calls(funded)] == [
        ("/api/v1/ai/messages", 200, True)]


# --- The flush: owned lock, chunks moved before they are ingested, rejections kept --------------------------

def buffered_call(tenant, *, timestamp=None) -> str:
    """Push one record as the tracking middleware does; returns its transaction_id."""
    transaction_id = f"call_{uuid.uuid4().hex}"
    record = {"tenant_id": tenant.pk, "transaction_id": transaction_id,
              "timestamp": (timestamp or timezone.now()).isoformat(),
              "properties": {"endpoint": "/api/v1/tenant", "method": "GET", "status": 200, "api_key_id": None,
                             "billable": True}}
    redis_connection().rpush(BUFFER_KEY, orjson.dumps(record))
    return transaction_id


def stored_transaction_ids(tenant) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT transaction_id FROM metering_usageevent WHERE tenant_id = %s AND meter_code = "
                       "'api_calls'", [tenant.pk])
        return sorted(row[0] for row in cursor.fetchall())


def during_first_ingest(monkeypatch, action) -> None:
    """Run `action` once, while the first flush is ingesting its first chunk."""
    real_ingest = tracking.event_ingest
    done = []

    def ingest(**kwargs):
        if not done:
            done.append(1)
            action()
        return real_ingest(**kwargs)

    monkeypatch.setattr(tracking, "event_ingest", ingest)


def test_flush_lock_expiry_does_not_drop_records(tenant_alpha, monkeypatch):
    sent = [buffered_call(tenant_alpha) for _ in range(2)]

    def lock_lapses_and_another_flush_runs():
        sent.extend(buffered_call(tenant_alpha) for _ in range(2))
        redis_connection().delete(LOCK_KEY)  # the first flush outlived its lock's TTL
        api_calls_flush()
        sent.extend(buffered_call(tenant_alpha) for _ in range(2))  # arrive before the first flush trims

    during_first_ingest(monkeypatch, lock_lapses_and_another_flush_runs)
    api_calls_flush()
    api_calls_flush()

    assert stored_transaction_ids(tenant_alpha) == sorted(sent)
    assert redis_connection().llen(BUFFER_KEY) == 0


def test_second_flush_cannot_delete_first_flush_lock(tenant_alpha, monkeypatch):
    buffered_call(tenant_alpha)
    redis = redis_connection()
    second = redis.lock(LOCK_KEY, timeout=60)

    def lock_lapses_and_another_flush_takes_it():
        redis.delete(LOCK_KEY)
        assert second.acquire(blocking=False)

    during_first_ingest(monkeypatch, lock_lapses_and_another_flush_takes_it)
    api_calls_flush()  # the first flush ends while the second holds the lock

    assert second.owned()
    second.release()


def test_a_chunk_left_by_a_flush_that_died_is_ingested_by_a_later_one(tenant_alpha, monkeypatch):
    sent = [buffered_call(tenant_alpha) for _ in range(3)]
    redis = redis_connection()
    tracking._chunk_take(redis, f"{BUFFER_KEY}:processing:died")  # taken, then the worker was killed
    assert redis.llen(BUFFER_KEY) == 0

    assert api_calls_flush().processed == 0  # its lease still runs: it may be alive
    later = time.time() + tracking.PROCESSING_LEASE_S + 1
    monkeypatch.setattr(tracking.time, "time", lambda: later)

    assert api_calls_flush().processed == 3
    assert stored_transaction_ids(tenant_alpha) == sorted(sent)
    assert redis.zcard(f"{BUFFER_KEY}:processing") == 0


def test_a_chunk_whose_ingestion_failed_is_retried_a_minute_later_without_holding_the_rest_back(tenant_alpha, monkeypatch):
    sent = [buffered_call(tenant_alpha) for _ in range(2)]

    def database_fails():
        raise OperationalError("the database went away")

    during_first_ingest(monkeypatch, database_fails)
    with pytest.raises(OperationalError):
        api_calls_flush()
    later = buffered_call(tenant_alpha)

    assert api_calls_flush().processed == 1  # the buffer goes on meanwhile
    in_a_minute = time.time() + tracking.FAILED_RETRY_S + 1
    monkeypatch.setattr(tracking.time, "time", lambda: in_a_minute)
    assert api_calls_flush().processed == 2
    assert stored_transaction_ids(tenant_alpha) == sorted([*sent, later])


def test_rejected_records_are_counted_and_logged(tenant_alpha, caplog):
    buffered_call(tenant_alpha)
    skewed = buffered_call(tenant_alpha, timestamp=timezone.now() + timedelta(minutes=10))  # clock ahead

    with caplog.at_level(logging.WARNING, logger="metering.limits.tracking"):
        result = api_calls_flush()

    assert (result.processed, result.rejected) == (2, 1)
    assert "api_calls_rejected count=1 codes=timestamp_out_of_range:1" in caplog.text
    kept = [orjson.loads(item) for item in redis_connection().lrange(REJECTED_KEY, 0, -1)]
    assert [(entry["code"], entry["record"]["transaction_id"]) for entry in kept] == [
        ("timestamp_out_of_range", skewed)]
