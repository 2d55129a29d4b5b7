import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from tenants.idempotency_store import IdempotencyStore
from tenants.models import ApiKey, IdempotencyRecord, Tenant
from tenants.services import idempotency_records_expire
from tests.support.api import api_client, api_key_for

CREATE = "/api/v1/api-keys"
EVENTS = "/api/v1/events"
BODY = {"name": "deploy", "scopes": ["read"]}


def _create(client, body=BODY, key="retry-1"):
    return client.post(CREATE, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def _send(client, transaction_id="t1", key="events-1"):
    """One event of compute_seconds (a meter tenants report themselves) with an Idempotency-Key."""
    body = {"transaction_id": transaction_id, "meter": "compute_seconds", "properties": {"seconds": 1}}
    return client.post(EVENTS, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.fixture
def client(tenant_alpha):
    return api_client(tenant_alpha, api_key_for(tenant_alpha, name="admin"))


@pytest.mark.django_db
def test_a_retry_replays_the_first_response(tenant_alpha, client):
    first = _send(client)
    retry = _send(client)

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first


@pytest.mark.django_db
def test_a_retry_of_a_created_key_answers_secret_already_shown_and_creates_nothing_more(tenant_alpha, client):
    first = _create(client)
    retry = _create(client)

    assert first.status_code == 201
    assert retry.status_code == 409
    error = retry.json()["error"]
    assert error["code"] == "secret_already_shown"
    assert "shown once" in error["message"]
    created = error["details"]["created"]
    assert (created["id"], created["prefix"], created["name"]) == (first.json()["id"], first.json()["prefix"],
                                                                  "deploy")
    assert "key" not in created
    assert first.json()["key"].encode() not in retry.content
    assert ApiKey.objects.filter(tenant=tenant_alpha, name="deploy").count() == 1


@pytest.mark.django_db
def test_the_same_key_with_a_different_body_is_a_conflict(tenant_alpha, client):
    _create(client)

    response = _create(client, body={"name": "other", "scopes": ["read"]})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert not ApiKey.objects.filter(tenant=tenant_alpha, name="other").exists()


@pytest.mark.django_db
def test_the_same_key_from_two_callers_is_two_independent_records(tenant_alpha, client, alpha_owner_client):
    other_key = api_client(tenant_alpha, api_key_for(tenant_alpha, name="other caller"))

    by_key = _send(client, transaction_id="a")
    by_other_key = _send(other_key, transaction_id="b")
    by_session = _send(alpha_owner_client, transaction_id="c")

    # Different bodies under one Idempotency-Key: no conflict, as no caller sees another's record.
    assert by_key.status_code == by_other_key.status_code == by_session.status_code == 200
    assert all("Idempotent-Replayed" not in response for response in (by_key, by_other_key, by_session))
    records = IdempotencyRecord.objects.filter(tenant=tenant_alpha, key="events-1")
    assert records.count() == 3
    assert len({record.caller for record in records}) == 3


@pytest.mark.django_db
def test_a_session_retry_replays_to_the_same_user(alpha_owner_client):
    first = _send(alpha_owner_client)
    retry = _send(alpha_owner_client)

    assert retry.status_code == 200 and retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()


@pytest.mark.django_db
def test_a_request_that_failed_validation_is_not_remembered(tenant_alpha, client):
    failed = _create(client, body={"name": "", "scopes": ["read"]})
    fixed = _create(client, body={"name": "", "scopes": ["read"]})

    assert failed.status_code == fixed.status_code == 400
    assert not IdempotencyRecord.objects.filter(tenant=tenant_alpha).exists()


@pytest.mark.django_db
def test_after_24_hours_the_key_runs_again(tenant_alpha, client):
    _create(client)

    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        again = _create(client)

    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert ApiKey.objects.filter(tenant=tenant_alpha, name="deploy").count() == 2


@pytest.mark.django_db
def test_the_expiry_job_deletes_records_older_than_24_hours(tenant_alpha, client):
    _create(client, key="old")
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        _create(client, key="new")
        deleted = idempotency_records_expire()

    assert deleted == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", " leading-space", "trailing-space ", "cl\u00e9"])
def test_a_malformed_idempotency_key_is_an_invalid_request(client, key):
    response = _create(client, key=key)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["x", "~" * 255, "a b", "!" + " " * 253 + "!", "7d1c-create-deploy-key"])
def test_an_idempotency_key_at_the_documented_limits_is_accepted(client, key):
    response = _send(client, key=key)

    assert response.status_code == 200


def _crash_while_creating(monkeypatch, client, *, key: str) -> None:
    """A create whose worker is killed (SystemExit escapes every `except Exception`) after writing the key."""
    from tenants import api, services

    def killed_after_creating(**kwargs):
        services.api_key_create(**kwargs)
        raise SystemExit("worker killed")

    create = api.api_key_create
    monkeypatch.setattr(api, "api_key_create", killed_after_creating)
    with pytest.raises(SystemExit):
        _create(client, key=key)
    monkeypatch.setattr(api, "api_key_create", create)


@pytest.mark.django_db
def test_crashed_request_does_not_block_its_idempotency_key_forever(tenant_alpha, client, monkeypatch, settings):
    """A worker killed mid-request (SystemExit escapes every `except Exception`) leaves its record in progress
    and, since the work and the record commit together, nothing done. Once the request timeout has passed, a
    retry takes the key over and runs, once."""
    settings.IDEMPOTENCY_WAIT_S = 0.1
    settings.IDEMPOTENCY_IN_PROGRESS_TIMEOUT_S = 600
    _crash_while_creating(monkeypatch, client, key="retry-1")
    assert IdempotencyRecord.objects.get(tenant=tenant_alpha).state == IdempotencyRecord.State.IN_PROGRESS
    assert not ApiKey.objects.filter(tenant=tenant_alpha, name="deploy").exists()

    too_soon = _create(client)
    with time_machine.travel(timezone.now() + timedelta(seconds=601)):
        retry = _create(client)

    assert too_soon.status_code == 409 and too_soon.json()["error"]["code"] == "request_in_progress"
    assert retry.status_code == 201
    assert ApiKey.objects.filter(tenant=tenant_alpha, name="deploy").count() == 1
    assert IdempotencyRecord.objects.get(tenant=tenant_alpha).state == IdempotencyRecord.State.COMPLETED


def _blocking_create(monkeypatch):
    """Make the first key creation wait for `release` (after setting `started`); later ones run at once."""
    from tenants import api, services

    started, release = threading.Event(), threading.Event()
    calls = []

    def slow_create(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            started.set()
            release.wait(timeout=10)
        return services.api_key_create(**kwargs)

    monkeypatch.setattr(api, "api_key_create", slow_create)
    return started, release


def _in_thread(results: dict, name: str, call) -> threading.Thread:
    def run():
        try:
            results[name] = call()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_two_concurrent_requests_with_one_key_execute_once(committed_db, monkeypatch):
    alpha = Tenant.objects.get(slug="alpha")
    secret = api_key_for(alpha, name="concurrency admin")
    started, release = _blocking_create(monkeypatch)
    results = {}
    try:
        first = _in_thread(results, "first", lambda: _create(api_client(alpha, secret), key="concurrent-1"))
        assert started.wait(timeout=10)
        second = _in_thread(results, "second", lambda: _create(api_client(alpha, secret), key="concurrent-1"))
        second.join(timeout=0.5)
        release.set()
        first.join(timeout=20)
        second.join(timeout=20)

        assert results["first"].status_code == 201
        assert results["second"].status_code == 409
        assert results["second"].json()["error"]["code"] in ("secret_already_shown", "request_in_progress")
        assert ApiKey.objects.filter(tenant=alpha, name="deploy").count() == 1
    finally:
        release.set()
        ApiKey.objects.filter(tenant=alpha).delete()
        IdempotencyRecord.objects.filter(tenant=alpha).delete()


def test_a_retry_still_waiting_past_the_limit_gets_request_in_progress(committed_db, monkeypatch, settings):
    settings.IDEMPOTENCY_WAIT_S = 0.2
    alpha = Tenant.objects.get(slug="alpha")
    secret = api_key_for(alpha, name="concurrency admin")
    started, release = _blocking_create(monkeypatch)
    results = {}
    try:
        first = _in_thread(results, "first", lambda: _create(api_client(alpha, secret), key="slow-1"))
        assert started.wait(timeout=10)
        second = _create(api_client(alpha, secret), key="slow-1")
        release.set()
        first.join(timeout=20)

        assert second.status_code == 409
        assert second.json()["error"]["code"] == "request_in_progress"
        assert second["Retry-After"] == "1"
        assert results["first"].status_code == 201
    finally:
        release.set()
        ApiKey.objects.filter(tenant=alpha).delete()
        IdempotencyRecord.objects.filter(tenant=alpha).delete()


def test_of_two_retries_racing_for_a_crashed_request_exactly_one_takes_it_over(committed_db, monkeypatch, settings):
    settings.IDEMPOTENCY_WAIT_S = 0.2
    alpha = Tenant.objects.get(slug="alpha")
    secret = api_key_for(alpha, name="concurrency admin")
    results = {}
    barrier = threading.Barrier(2)

    def retry():
        barrier.wait(timeout=10)
        return _create(api_client(alpha, secret), key="crashed-1")

    started, release = _blocking_create(monkeypatch)
    try:
        _crash_while_creating(monkeypatch, api_client(alpha, secret), key="crashed-1")
        crashed_at = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_IN_PROGRESS_TIMEOUT_S + 1)
        IdempotencyRecord.objects.filter(tenant=alpha, key="crashed-1").update(started_at=crashed_at)
        threads = [_in_thread(results, name, retry) for name in ("one", "two")]
        assert started.wait(timeout=10)
        deadline = time.monotonic() + 10
        while all(thread.is_alive() for thread in threads) and time.monotonic() < deadline:
            time.sleep(0.02)
        # While the winner is still running, the loser has found the record taken and given up.
        loser = next(name for name, thread in zip(("one", "two"), threads) if not thread.is_alive())
        release.set()
        for thread in threads:
            thread.join(timeout=20)

        assert results[loser].status_code == 409
        assert results[loser].json()["error"]["code"] == "request_in_progress"
        winner = "two" if loser == "one" else "one"
        assert results[winner].status_code == 201
        assert ApiKey.objects.filter(tenant=alpha, name="deploy").count() == 1
    finally:
        release.set()
        ApiKey.objects.filter(tenant=alpha).delete()
        IdempotencyRecord.objects.filter(tenant=alpha).delete()


def test_a_slow_request_taken_over_by_a_retry_keeps_nothing_so_the_work_runs_once(committed_db, monkeypatch):
    """The first request is not dead, only slower than the timeout: a retry takes its key over and creates the
    key; when the first one finishes, its record is no longer its own and its work is rolled back."""
    alpha = Tenant.objects.get(slug="alpha")
    secret = api_key_for(alpha, name="concurrency admin")
    started, release = _blocking_create(monkeypatch)
    results = {}
    try:
        first = _in_thread(results, "first", lambda: _create(api_client(alpha, secret), key="slow-2"))
        assert started.wait(timeout=10)
        long_ago = timezone.now() - timedelta(hours=1)
        IdempotencyRecord.objects.filter(tenant=alpha, key="slow-2").update(started_at=long_ago)

        retry = _create(api_client(alpha, secret), key="slow-2")
        release.set()
        first.join(timeout=20)

        assert retry.status_code == 201
        assert results["first"].status_code == 409
        assert results["first"].json()["error"]["code"] == "request_in_progress"
        assert list(ApiKey.objects.filter(tenant=alpha, name="deploy").values_list("pk", flat=True)) == [
            retry.json()["id"]]
    finally:
        release.set()
        ApiKey.objects.filter(tenant=alpha).delete()
        IdempotencyRecord.objects.filter(tenant=alpha).delete()


@pytest.mark.django_db
def test_a_response_echoing_a_nul_character_is_still_remembered(tenant_alpha):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["usage:write"]))
    body = {"transaction_id": "t", "meter": "bad\u0000meter"}

    first = client.post(EVENTS, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="nul-1")
    retry = client.post(EVENTS, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="nul-1")

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json() and retry["Idempotent-Replayed"] == "true"


class CountingStore(IdempotencyStore):
    claims = 0

    def claim(self, **kwargs):
        CountingStore.claims += 1
        return super().claim(**kwargs)


@pytest.mark.django_db
def test_records_are_kept_by_the_store_the_setting_names(tenant_alpha, client, settings):
    settings.API_IDEMPOTENCY_STORE = f"{__name__}.CountingStore"

    _send(client)

    assert CountingStore.claims == 1
