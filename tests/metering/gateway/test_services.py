"""The AI gateway's pricing (exact decimals), its input estimate, its settlement, which squares the wallet exactly
once, the sweep that settles the reservations of dead processes, and the concurrency slots."""

import time
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from config.redis_guard import redis_connection
from metering.gateway import services as ai_services
from metering.gateway.client import AiUsage
from metering.gateway.services import (
    AI_REQUEST_MAX_S,
    SWEEP_MARGIN_S,
    AiConcurrencyExceeded,
    ai_cost,
    ai_release,
    ai_reservation_checkpoint,
    ai_reservations_sweep,
    ai_reserve,
    ai_settle,
    ai_slot_acquire,
    input_tokens_estimate,
    slot_key,
    slot_lease_s,
)
from metering.models import AiReservationRecord, ModelPrice, UsageEvent, Wallet, WalletEntry
from metering.wallets.services import InsufficientBalance, wallet_credit

pytestmark = pytest.mark.django_db


def price(**rates) -> ModelPrice:
    defaults = {"input_per_mtok": Decimal("3"), "output_per_mtok": Decimal("15"),
                "cache_write_per_mtok": Decimal("3.75"), "cache_read_per_mtok": Decimal("0.30")}
    return ModelPrice(model="claude-sonnet-4-6", currency="USD", **{**defaults, **rates})


# --- Pricing ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("usage", "expected"), [
    (AiUsage(), "0.000000"),
    (AiUsage(input_tokens=1_000_000), "3.000000"),
    (AiUsage(output_tokens=1_000_000), "15.000000"),
    (AiUsage(cache_write_tokens=1_000_000), "3.750000"),
    (AiUsage(cache_read_tokens=1_000_000), "0.300000"),
    # 1234 x 3 + 567 x 15 + 89 x 3.75 + 10 x 0.30 = 3702 + 8505 + 333.75 + 3 = 12543.75 micro-dollars
    (AiUsage(input_tokens=1234, output_tokens=567, cache_write_tokens=89, cache_read_tokens=10), "0.012544"),
    # 1 input token: 3 micro-dollars exactly; 1 cache read: 0.3 rounds to 0.
    (AiUsage(input_tokens=1), "0.000003"),
    (AiUsage(cache_read_tokens=1), "0.000000"),
    (AiUsage(cache_read_tokens=5), "0.000002"),  # 1.5 rounds half up
])
def test_cost_is_exact_decimal_at_per_million_prices(usage, expected):
    cost = ai_cost(price=price(), usage=usage)

    assert isinstance(cost.amount, Decimal)
    assert (str(cost.amount), cost.currency) == (expected, "USD")


def test_seeded_list_prices():
    rows = {row.model: (row.input_per_mtok, row.output_per_mtok, row.cache_write_per_mtok, row.cache_read_per_mtok)
            for row in ModelPrice.objects.filter(active=True)}

    assert rows["claude-sonnet-4-6"] == (Decimal("3"), Decimal("15"), Decimal("3.75"), Decimal("0.30"))
    assert rows["claude-haiku-4-5"] == (Decimal("1"), Decimal("5"), Decimal("1.25"), Decimal("0.10"))
    assert rows["claude-opus-4-1"] == (Decimal("15"), Decimal("75"), Decimal("18.75"), Decimal("1.50"))


def test_the_input_estimate_is_utf8_bytes_plus_framing():
    # 16 tokens for the request, 8 per message, one per byte of text.
    assert input_tokens_estimate(system="", messages=[{"role": "user", "content": ""}]) == 24
    assert input_tokens_estimate(system="12345678", messages=[{"role": "user", "content": "9"}]) == 33
    assert input_tokens_estimate(system="", messages=[{"role": "user", "content": "東京"},
                                                      {"role": "assistant", "content": "🎉"}]) == 16 + 16 + 6 + 4


# --- Settlement ---------------------------------------------------------------------------------------------

@pytest.fixture
def reservation(tenant_alpha):
    wallet_credit(tenant=tenant_alpha, tokens=10_000, kind="purchase", reason="Purchase", idempotency_key="bought")
    return ai_reserve(tenant=tenant_alpha, price=ModelPrice.objects.get(model="claude-haiku-4-5"), tokens=1_000,
                      request_id=uuid.uuid4())


def balance(tenant) -> int:
    return Wallet.objects.get(tenant=tenant).balance


def test_the_reservation_is_taken_from_the_wallet(reservation, tenant_alpha):
    assert balance(tenant_alpha) == 9_000


def test_a_reservation_needs_the_balance(tenant_alpha):
    with pytest.raises(InsufficientBalance):
        ai_reserve(tenant=tenant_alpha, price=ModelPrice.objects.get(model="claude-haiku-4-5"), tokens=1,
                   request_id=uuid.uuid4())

    assert not AiReservationRecord.objects.filter(tenant=tenant_alpha).exists()


def test_a_reservation_is_recorded_open_with_its_debit(reservation, tenant_alpha):
    record = AiReservationRecord.objects.get(request_id=reservation.request_id)

    assert (record.tenant, record.tokens, record.settled_at, record.outcome) == (tenant_alpha, 1_000, None, "")
    assert record.deadline == record.created_at + timedelta(seconds=AI_REQUEST_MAX_S + slot_lease_s())


def test_a_retried_settle_changes_nothing(reservation, tenant_alpha):
    usage = AiUsage(input_tokens=100, output_tokens=50, cache_read_tokens=10)

    first = ai_settle(reservation=reservation, usage=usage)
    second = ai_settle(reservation=reservation, usage=usage)

    assert first == second
    assert balance(tenant_alpha) == 10_000 - 160
    assert WalletEntry.objects.filter(wallet__tenant=tenant_alpha, kind="refund").count() == 1
    events = {event.meter_code: event.properties["tokens"]
              for event in UsageEvent.objects.filter(tenant=tenant_alpha, meter_code__startswith="ai_")}
    assert events == {"ai_input_tokens": 110, "ai_output_tokens": 50}
    assert UsageEvent.objects.filter(tenant=tenant_alpha, meter_code__startswith="ai_").count() == 2


def test_usage_over_the_reservation_is_debited_once(reservation, tenant_alpha):
    usage = AiUsage(input_tokens=1_200, output_tokens=300)

    ai_settle(reservation=reservation, usage=usage)
    ai_settle(reservation=reservation, usage=usage)

    assert balance(tenant_alpha) == 10_000 - 1_500
    assert list(WalletEntry.objects.filter(wallet__tenant=tenant_alpha, idempotency_key__startswith="ai-settle:")
                .values_list("kind", "tokens")) == [("usage_debit", -500)]


def test_usage_exactly_the_reservation_writes_no_settlement_entry(reservation, tenant_alpha):
    ai_settle(reservation=reservation, usage=AiUsage(input_tokens=400, output_tokens=600))

    assert balance(tenant_alpha) == 9_000
    settlements = WalletEntry.objects.filter(wallet__tenant=tenant_alpha, idempotency_key__startswith="ai-settle:")
    assert not settlements.exists()


def test_a_release_gives_the_whole_reservation_back_and_records_no_usage(reservation, tenant_alpha):
    ai_release(reservation=reservation)
    ai_release(reservation=reservation)

    assert balance(tenant_alpha) == 10_000
    assert not UsageEvent.objects.filter(tenant=tenant_alpha, meter_code__startswith="ai_").exists()


def test_a_settlement_closes_the_record_with_its_usage(reservation):
    ai_settle(reservation=reservation, usage=AiUsage(input_tokens=100, output_tokens=50))

    record = AiReservationRecord.objects.get(request_id=reservation.request_id)
    assert (record.outcome, record.usage_recorded) == ("settled", True)
    assert record.usage == {"input_tokens": 100, "output_tokens": 50, "cache_write_tokens": 0, "cache_read_tokens": 0}


def test_usage_recording_failure_still_settles_reservation(reservation, tenant_alpha, monkeypatch):
    def usage_store_down(**kwargs):
        raise RuntimeError("usage store down")
    monkeypatch.setattr(ai_services, "event_ingest", usage_store_down)

    settlement = ai_settle(reservation=reservation, usage=AiUsage(input_tokens=100, output_tokens=50))

    assert settlement.usage.total_tokens == 150
    assert balance(tenant_alpha) == 10_000 - 150
    record = AiReservationRecord.objects.get(request_id=reservation.request_id)
    assert (record.outcome, record.usage_recorded) == ("settled", False)
    assert not UsageEvent.objects.filter(tenant=tenant_alpha, meter_code__startswith="ai_").exists()


def test_the_sweep_stores_usage_events_a_settlement_could_not(reservation, tenant_alpha, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(ai_services, "event_ingest", lambda **kwargs: (_ for _ in ()).throw(RuntimeError("down")))
        ai_settle(reservation=reservation, usage=AiUsage(input_tokens=100, output_tokens=50))

    assert ai_reservations_sweep() == 0

    events = {event.meter_code: event.properties["tokens"]
              for event in UsageEvent.objects.filter(tenant=tenant_alpha, meter_code__startswith="ai_")}
    assert events == {"ai_input_tokens": 100, "ai_output_tokens": 50}
    assert AiReservationRecord.objects.get(request_id=reservation.request_id).usage_recorded
    assert balance(tenant_alpha) == 10_000 - 150


# --- The sweep: reservations of processes that died ---------------------------------------------------------

def after_every_deadline():
    return timezone.now() + timedelta(seconds=AI_REQUEST_MAX_S + slot_lease_s() + SWEEP_MARGIN_S + 1)


def test_sweep_settles_reservations_of_killed_workers(reservation, tenant_alpha):
    haiku = ModelPrice.objects.get(model="claude-haiku-4-5")
    # A stream killed after it had checkpointed what it forwarded; the fixture's reservation died before any.
    streaming = ai_reserve(tenant=tenant_alpha, price=haiku, tokens=2_000, request_id=uuid.uuid4())
    ai_reservation_checkpoint(reservation=streaming, usage=AiUsage(input_tokens=40, output_tokens=300))
    assert balance(tenant_alpha) == 10_000 - 3_000

    assert ai_reservations_sweep() == 0  # still within their deadlines
    assert ai_reservations_sweep(now=after_every_deadline()) == 2

    assert balance(tenant_alpha) == 10_000 - 340
    records = {record.request_id: record for record in AiReservationRecord.objects.filter(tenant=tenant_alpha)}
    assert {record.outcome for record in records.values()} == {"swept"}
    assert records[reservation.request_id].usage == {"input_tokens": 0, "output_tokens": 0,
                                                      "cache_write_tokens": 0, "cache_read_tokens": 0}
    events = {event.meter_code: event.properties["tokens"]
              for event in UsageEvent.objects.filter(tenant=tenant_alpha, meter_code__startswith="ai_")}
    assert events == {"ai_input_tokens": 40, "ai_output_tokens": 300}
    assert ai_reservations_sweep(now=after_every_deadline()) == 0


def test_sweep_and_late_settle_settle_once(reservation, tenant_alpha):
    ai_reservations_sweep(now=after_every_deadline())

    late = ai_settle(reservation=reservation, usage=AiUsage(input_tokens=100, output_tokens=50))

    assert late.usage == AiUsage()
    assert balance(tenant_alpha) == 10_000
    settlements = WalletEntry.objects.filter(wallet__tenant=tenant_alpha, idempotency_key__startswith="ai-settle:")
    assert settlements.count() == 1
    assert not UsageEvent.objects.filter(tenant=tenant_alpha, meter_code__startswith="ai_").exists()
    assert AiReservationRecord.objects.get(request_id=reservation.request_id).outcome == "swept"


def test_a_settled_reservation_is_never_swept(reservation, tenant_alpha):
    ai_settle(reservation=reservation, usage=AiUsage(input_tokens=100, output_tokens=50))

    assert ai_reservations_sweep(now=after_every_deadline()) == 0

    assert balance(tenant_alpha) == 10_000 - 150
    assert AiReservationRecord.objects.get(request_id=reservation.request_id).outcome == "settled"


def test_the_beat_job_runs_the_sweep_every_five_minutes(reservation, tenant_alpha):
    from django_celery_beat.models import PeriodicTask

    from metering.tasks import ai_reservations_sweep_task

    job = PeriodicTask.objects.get(task="metering.ai_reservations_sweep")
    assert (job.enabled, job.crontab.minute, job.crontab.hour) == (True, "*/5", "*")
    with time_machine.travel(after_every_deadline(), tick=False):
        assert ai_reservations_sweep_task() == 1
    assert balance(tenant_alpha) == 10_000


def test_a_release_closes_the_record_as_released(reservation):
    ai_release(reservation=reservation)

    assert AiReservationRecord.objects.get(request_id=reservation.request_id).outcome == "released"


# --- Concurrency slots (the Free plan allows one AI request at a time) ---------------------------------------

@pytest.fixture
def slots(tenant_alpha):
    redis = redis_connection()
    redis.delete(slot_key(tenant_alpha))
    yield redis
    redis.delete(slot_key(tenant_alpha))


@pytest.mark.redis
def test_refused_attempts_do_not_extend_a_leaked_slot(slots, tenant_alpha):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        ai_slot_acquire(tenant=tenant_alpha, request_id=uuid.uuid4())  # its process dies: never released
        for _ in range(5):
            clock.shift(slot_lease_s() // 5 - 1)
            with pytest.raises(AiConcurrencyExceeded):
                ai_slot_acquire(tenant=tenant_alpha, request_id=uuid.uuid4())
        clock.shift(6)

        slot = ai_slot_acquire(tenant=tenant_alpha, request_id=uuid.uuid4())

    assert slots.zcard(slot_key(tenant_alpha)) == 1
    slot.release()


@pytest.mark.redis
def test_dead_request_slot_frees_itself_after_deadline(slots, tenant_alpha):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        dead = ai_slot_acquire(tenant=tenant_alpha, request_id=uuid.uuid4())
        clock.shift(slot_lease_s() + 1)

        live = ai_slot_acquire(tenant=tenant_alpha, request_id=uuid.uuid4())

    assert slots.zrange(slot_key(tenant_alpha), 0, -1) == [live.member.encode()]
    assert 0 < slots.ttl(slot_key(tenant_alpha)) <= slot_lease_s()
    dead.release()
    live.release()
    assert slots.zcard(slot_key(tenant_alpha)) == 0


@pytest.mark.redis
def test_a_live_stream_keeps_its_slot_past_the_first_lease(slots, tenant_alpha):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        streaming = ai_slot_acquire(tenant=tenant_alpha, request_id=uuid.uuid4())
        clock.shift(slot_lease_s() - 5)
        streaming.renew(now=time.time())
        clock.shift(10)

        with pytest.raises(AiConcurrencyExceeded):
            ai_slot_acquire(tenant=tenant_alpha, request_id=uuid.uuid4())

    streaming.release()


@pytest.mark.redis
def test_a_released_slot_is_free_at_once(slots, tenant_alpha):
    ai_slot_acquire(tenant=tenant_alpha, request_id=uuid.uuid4()).release()

    ai_slot_acquire(tenant=tenant_alpha, request_id=uuid.uuid4()).release()

    assert slots.zcard(slot_key(tenant_alpha)) == 0
