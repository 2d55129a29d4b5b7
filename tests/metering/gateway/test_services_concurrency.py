"""The sweep and a late settle racing for real: two threads, each on its own connection, committing."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from metering.gateway.client import AiUsage
from metering.gateway.services import (
    AI_REQUEST_MAX_S,
    SWEEP_MARGIN_S,
    ai_reservations_sweep,
    ai_reserve,
    ai_settle,
    slot_lease_s,
)
from metering.models import AiReservationRecord, ModelPrice, Wallet, WalletEntry
from metering.wallets.services import wallet_credit
from tenants.models import Tenant
from tests.support.tenants import tenant_metering_purge

RESERVATIONS = 20


@pytest.fixture
def committed_alpha(committed_db):
    alpha = Tenant.objects.get(slug="alpha")
    yield alpha
    tenant_metering_purge(alpha)


def test_sweep_racing_late_settles_moves_tokens_once_per_reservation(committed_alpha):
    wallet_credit(tenant=committed_alpha, tokens=100_000, kind="purchase", reason="Purchase", idempotency_key="seed")
    haiku = ModelPrice.objects.get(model="claude-haiku-4-5")
    reservations = [ai_reserve(tenant=committed_alpha, price=haiku, tokens=1_000, request_id=uuid.uuid4())
                    for _ in range(RESERVATIONS)]
    later = timezone.now() + timedelta(seconds=AI_REQUEST_MAX_S + slot_lease_s() + SWEEP_MARGIN_S + 1)
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def run(work) -> None:
        try:
            barrier.wait(timeout=10)
            work()
        except Exception as error:  # the outcome under test
            errors.append(error)
        finally:
            connection.close()

    def late_settles() -> None:
        # Newest first while the sweep goes oldest first: the two meet, and race, somewhere in the middle.
        for reservation in reversed(reservations):
            ai_settle(reservation=reservation, usage=AiUsage(input_tokens=100, output_tokens=50))

    threads = [threading.Thread(target=run, args=(lambda: ai_reservations_sweep(now=later),)),
               threading.Thread(target=run, args=(late_settles,))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    outcomes = list(AiReservationRecord.objects.filter(tenant=committed_alpha).values_list("outcome", flat=True))
    assert len(outcomes) == RESERVATIONS and set(outcomes) <= {"swept", "settled"}
    settlements = WalletEntry.objects.filter(wallet__tenant=committed_alpha, idempotency_key__startswith="ai-settle:")
    assert settlements.count() == RESERVATIONS
    # A swept reservation came back whole; a settled one cost its 150 tokens; none moved twice.
    assert Wallet.objects.get(tenant=committed_alpha).balance == 100_000 - 150 * outcomes.count("settled")
