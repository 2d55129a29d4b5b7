"""tenants.idempotency_store: the rows behind config.api.idempotency, one per (tenant, caller, key)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tenants.idempotency_store import IdempotencyStore
from tenants.models import IdempotencyRecord

pytestmark = pytest.mark.django_db

store = IdempotencyStore()


def claim(tenant, *, caller="key:1", key="k1", fingerprint="f1", now=None):
    now = now or timezone.now()
    return store.claim(tenant=tenant, caller=caller, key=key, fingerprint=fingerprint, now=now,
                       expires_at=now + timedelta(hours=24))


def test_the_first_claim_creates_an_in_progress_record(tenant_alpha):
    record, created = claim(tenant_alpha)

    assert created and store.in_progress(record)
    assert (record.caller, record.key, record.request_fingerprint) == ("key:1", "k1", "f1")


def test_a_second_claim_of_the_same_key_by_the_same_caller_gets_the_first_record(tenant_alpha):
    first, _ = claim(tenant_alpha)

    again, created = claim(tenant_alpha, fingerprint="f2")

    assert (again.pk, created, again.request_fingerprint) == (first.pk, False, "f1")


def test_another_caller_with_the_same_key_gets_a_record_of_its_own(tenant_alpha):
    first, _ = claim(tenant_alpha)

    other, created = claim(tenant_alpha, caller="user:7")

    assert created and other.pk != first.pk


def test_the_same_user_id_and_key_in_another_tenant_gets_a_record_of_its_own(tenant_alpha, tenant_beta):
    # User ids repeat across tenant schemas: "user:1" of alpha is not "user:1" of beta.
    alphas, _ = claim(tenant_alpha, caller="user:1")

    betas, created = claim(tenant_beta, caller="user:1")

    assert created and betas.pk != alphas.pk


def test_an_expired_record_is_replaced_by_a_new_claim(tenant_alpha):
    first, _ = claim(tenant_alpha, now=timezone.now() - timedelta(hours=25))

    fresh, created = claim(tenant_alpha)

    assert created and not IdempotencyRecord.objects.filter(pk=first.pk).exists()


def test_only_a_record_started_before_the_stale_time_is_taken_over(tenant_alpha):
    now = timezone.now()
    record, _ = claim(tenant_alpha, now=now - timedelta(minutes=5))

    assert not store.take_over(record, stale_before=now - timedelta(minutes=10), now=now, expires_at=now)
    assert store.take_over(record, stale_before=now, now=now, expires_at=now + timedelta(hours=24))
    assert record.started_at == IdempotencyRecord.objects.get(pk=record.pk).started_at == now


def test_completing_stores_the_response(tenant_alpha):
    record, _ = claim(tenant_alpha)

    assert store.complete(record, response_status=201, response_body='{"id": 1}', secret_withheld=True)

    stored = store.reload(record)
    assert not store.in_progress(stored)
    assert (stored.response_status, stored.response_body, stored.secret_withheld) == (201, '{"id": 1}', True)


def test_a_record_taken_over_is_neither_completed_nor_released_by_its_first_request(tenant_alpha):
    now = timezone.now()
    slow, _ = claim(tenant_alpha, now=now - timedelta(hours=1))
    retry = store.reload(slow)
    store.take_over(retry, stale_before=now, now=now, expires_at=now + timedelta(hours=24))

    assert not store.complete(slow, response_status=200, response_body="{}", secret_withheld=False)
    store.release(slow)

    assert store.in_progress(store.reload(retry))


def test_a_released_record_is_gone(tenant_alpha):
    record, _ = claim(tenant_alpha)

    store.release(record)

    assert store.reload(record) is None
