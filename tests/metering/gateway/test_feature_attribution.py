"""The wallet's entries say what an AI request paid for (the AI API, the coach, content generation): the
reservation, the settlement's extra debit and the sweep's alike."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from metering.gateway.client import AiUsage
from metering.gateway.services import (
    AI_REQUEST_MAX_S,
    SWEEP_MARGIN_S,
    ai_reservation_checkpoint,
    ai_reservations_sweep,
    ai_reserve,
    ai_settle,
    slot_lease_s,
)
from metering.models import ModelPrice, WalletEntry, WalletFeature
from metering.wallets.services import wallet_credit

pytestmark = pytest.mark.django_db


@pytest.fixture
def haiku(tenant_alpha) -> ModelPrice:
    wallet_credit(tenant=tenant_alpha, tokens=10_000, kind="purchase", reason="Purchase", idempotency_key="bought")
    return ModelPrice.objects.get(model="claude-haiku-4-5")


def features(tenant) -> set[tuple[str, str]]:
    return {(entry.idempotency_key.split(":")[0], entry.feature) for entry in
            WalletEntry.objects.filter(wallet__tenant=tenant, idempotency_key__startswith="ai-")}


def test_a_request_without_a_feature_is_charged_to_the_ai_api(haiku, tenant_alpha):
    ai_reserve(tenant=tenant_alpha, price=haiku, tokens=100, request_id=uuid.uuid4())

    assert features(tenant_alpha) == {("ai-reserve", WalletFeature.AI_API)}


def test_the_reservation_and_the_extra_debit_carry_the_requests_feature(haiku, tenant_alpha):
    reservation = ai_reserve(tenant=tenant_alpha, price=haiku, tokens=100, request_id=uuid.uuid4(),
                             feature=WalletFeature.CONTENT)

    ai_settle(reservation=reservation, usage=AiUsage(input_tokens=80, output_tokens=70))

    assert features(tenant_alpha) == {("ai-reserve", WalletFeature.CONTENT), ("ai-settle", WalletFeature.CONTENT)}


def test_the_sweep_charges_a_dead_request_to_its_own_feature(haiku, tenant_alpha):
    reservation = ai_reserve(tenant=tenant_alpha, price=haiku, tokens=100, request_id=uuid.uuid4(),
                             feature=WalletFeature.COACH)
    ai_reservation_checkpoint(reservation=reservation, usage=AiUsage(input_tokens=80, output_tokens=70))

    ai_reservations_sweep(now=timezone.now() + timedelta(seconds=AI_REQUEST_MAX_S + slot_lease_s()
                                                         + SWEEP_MARGIN_S + 1))

    assert features(tenant_alpha) == {("ai-reserve", WalletFeature.COACH), ("ai-settle", WalletFeature.COACH)}
