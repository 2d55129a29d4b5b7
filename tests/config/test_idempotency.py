import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from tenants.models import ApiKey, IdempotencyRecord
from tenants.services import idempotency_records_expire
from tests.support.api import api_client, api_key_for

CREATE = "/api/v1/api-keys"
BODY = {"name": "deploy", "scopes": ["read"]}


def _create(client, body=BODY, key="retry-1"):
    return client.post(CREATE, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.fixture
def client(tenant_alpha):
    return api_client(tenant_alpha, api_key_for(tenant_alpha, name="admin"))


@pytest.mark.django_db
def test_a_retry_replays_the_first_response_and_creates_nothing_more(tenant_alpha, client):
    first = _create(client)
    retry = _create(client)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert ApiKey.objects.filter(tenant=tenant_alpha, name="deploy").count() == 1


@pytest.mark.django_db
def test_the_same_key_with_a_different_body_is_a_conflict(tenant_alpha, client):
    _create(client)

    response = _create(client, body={"name": "other", "scopes": ["read"]})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert not ApiKey.objects.filter(tenant=tenant_alpha, name="other").exists()


@pytest.mark.django_db
def test_keys_are_per_tenant(tenant_alpha, tenant_beta, client):
    _create(client)

    beta = _create(api_client(tenant_beta, api_key_for(tenant_beta)))

    assert beta.status_code == 201 and "Idempotent-Replayed" not in beta
    assert ApiKey.objects.filter(tenant=tenant_beta, name="deploy").count() == 1


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
@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_a_malformed_idempotency_key_is_an_invalid_request(client, key):
    response = _create(client, key=key)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_two_concurrent_requests_with_one_key_execute_once(committed_db, monkeypatch):
    from tenants import api, services
    from tenants.models import Tenant

    alpha = Tenant.objects.get(slug="alpha")
    secret = api_key_for(alpha, name="concurrency admin")
    started, release = threading.Event(), threading.Event()
    original_create = services.api_key_create

    def slow_create(**kwargs):
        started.set()
        release.wait(timeout=10)
        return original_create(**kwargs)

    monkeypatch.setattr(api, "api_key_create", slow_create)
    results = {}

    def call(name):
        results[name] = _create(api_client(alpha, secret), key="concurrent-1")
        connection.close()

    first = threading.Thread(target=call, args=("first",))
    second = threading.Thread(target=call, args=("second",))
    try:
        first.start()
        assert started.wait(timeout=10)
        second.start()
        second.join(timeout=0.5)
        release.set()
        first.join(timeout=20)
        second.join(timeout=20)

        statuses = sorted([results["first"].status_code, results["second"].status_code])
        assert statuses in ([201, 201], [201, 409])
        assert ApiKey.objects.filter(tenant=alpha, name="deploy").count() == 1
        if statuses == [201, 201]:
            assert results["second"]["Idempotent-Replayed"] == "true"
        else:
            assert results["second"].json()["error"]["code"] == "request_in_progress"
    finally:
        release.set()
        ApiKey.objects.filter(tenant=alpha).delete()
        IdempotencyRecord.objects.filter(tenant=alpha).delete()


def test_a_retry_still_waiting_past_the_limit_gets_request_in_progress(committed_db, monkeypatch, settings):
    from tenants import api, services
    from tenants.models import Tenant

    settings.IDEMPOTENCY_WAIT_S = 0.2
    alpha = Tenant.objects.get(slug="alpha")
    secret = api_key_for(alpha, name="concurrency admin")
    started, release = threading.Event(), threading.Event()
    original_create = services.api_key_create

    def slow_create(**kwargs):
        started.set()
        release.wait(timeout=10)
        return original_create(**kwargs)

    monkeypatch.setattr(api, "api_key_create", slow_create)
    results = {}

    def call():
        results["first"] = _create(api_client(alpha, secret), key="slow-1")
        connection.close()

    first = threading.Thread(target=call)
    try:
        first.start()
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


@pytest.mark.django_db
def test_a_response_echoing_a_nul_character_is_still_remembered(tenant_alpha):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["usage:write"]))
    body = {"transaction_id": "t", "meter": "bad\u0000meter"}

    first = client.post("/api/v1/events", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="nul-1")
    retry = client.post("/api/v1/events", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="nul-1")

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json() and retry["Idempotent-Replayed"] == "true"
