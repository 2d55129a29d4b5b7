"""Tenant A's key cannot spend tenant B's AI tokens: on B's host it is refused before anything is reserved. A's
concurrency slots never count against B, and the sweep gives each dead reservation back to its own tenant."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from config.redis_guard import redis_connection
from metering.gateway.client import AiUsage
from metering.gateway.services import (
    AI_REQUEST_MAX_S,
    SWEEP_MARGIN_S,
    ai_reservation_checkpoint,
    ai_reservations_sweep,
    ai_reserve,
    ai_slot_acquire,
    slot_key,
    slot_lease_s,
)
from metering.models import AiReservationRecord, ModelPrice, UsageEvent, Wallet, WalletEntry
from metering.wallets.services import wallet_credit
from tests.support.anthropic import PROMPT, post
from tests.support.api import api_client, api_key_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/ai/messages", "/api/v1/ai/code"])
def test_a_key_of_tenant_a_is_refused_on_tenant_bs_ai_api(upstream, tenant_alpha, tenant_beta, path):
    wallet_credit(tenant=tenant_beta, tokens=10_000, kind="purchase", reason="Purchase", idempotency_key="bought")
    client = api_client(tenant_beta, api_key_for(tenant_alpha, scopes=["ai"]))

    response = post(client, PROMPT if path.endswith("messages") else {"description": "x"}, path=path)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert upstream.requests == []
    assert Wallet.objects.get(tenant=tenant_beta).balance == 10_000
    assert WalletEntry.objects.filter(wallet__tenant=tenant_beta).count() == 1
    assert not Wallet.objects.filter(tenant=tenant_alpha, entries__isnull=False).exists()


def test_each_tenant_pays_for_its_own_requests(upstream, tenant_alpha, tenant_beta):
    for tenant in (tenant_alpha, tenant_beta):
        wallet_credit(tenant=tenant, tokens=10_000, kind="purchase", reason="Purchase", idempotency_key="bought")

    response = post(api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["ai"])), PROMPT)

    assert response.status_code == 200
    assert Wallet.objects.get(tenant=tenant_alpha).balance == 10_000 - 15
    assert Wallet.objects.get(tenant=tenant_beta).balance == 10_000


@pytest.mark.redis
def test_a_tenants_leaked_slot_never_blocks_another_tenant(tenant_alpha, tenant_beta):
    redis = redis_connection()
    try:
        with time_machine.travel(timezone.now(), tick=False):
            ai_slot_acquire(tenant=tenant_alpha, request_id=uuid.uuid4())  # alpha's process dies holding it

            beta = ai_slot_acquire(tenant=tenant_beta, request_id=uuid.uuid4())

        assert (redis.zcard(slot_key(tenant_alpha)), redis.zcard(slot_key(tenant_beta))) == (1, 1)
        beta.release()
    finally:
        redis.delete(slot_key(tenant_alpha), slot_key(tenant_beta))


def test_the_sweep_settles_each_dead_reservation_with_its_own_tenant(tenant_alpha, tenant_beta):
    haiku = ModelPrice.objects.get(model="claude-haiku-4-5")
    for tenant in (tenant_alpha, tenant_beta):
        wallet_credit(tenant=tenant, tokens=10_000, kind="purchase", reason="Purchase", idempotency_key="bought")
    alpha = ai_reserve(tenant=tenant_alpha, price=haiku, tokens=1_000, request_id=uuid.uuid4())
    ai_reservation_checkpoint(reservation=alpha, usage=AiUsage(input_tokens=10, output_tokens=90))
    ai_reserve(tenant=tenant_beta, price=haiku, tokens=2_000, request_id=uuid.uuid4())

    later = timezone.now() + timedelta(seconds=AI_REQUEST_MAX_S + slot_lease_s() + SWEEP_MARGIN_S + 1)
    assert ai_reservations_sweep(now=later) == 2

    assert Wallet.objects.get(tenant=tenant_alpha).balance == 10_000 - 100
    assert Wallet.objects.get(tenant=tenant_beta).balance == 10_000
    assert not UsageEvent.objects.filter(tenant=tenant_beta, meter_code__startswith="ai_").exists()
    assert UsageEvent.objects.filter(tenant=tenant_alpha, meter_code__startswith="ai_").count() == 2
    assert set(AiReservationRecord.objects.values_list("tenant__slug", "outcome")) == {("alpha", "swept"),
                                                                                       ("beta", "swept")}
