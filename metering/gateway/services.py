"""The metered AI gateway: a request to Claude paid from the tenant's AI-token wallet.

One request, in order:
1. a concurrency slot (the plan's `concurrent_ai_requests`): a member of a Redis sorted set per tenant, scored
   by its own deadline, so a slot whose process died frees itself at that deadline and a refused attempt extends
   nothing; with Redis unreachable the gateway refuses: it fails closed, unlike the API rate limits;
2. a reservation: a wallet debit of `max_tokens` plus an estimate of the input (UTF-8 bytes plus framing, an
   upper bound of Claude's tokens), key `ai-reserve:<request uuid>`, and its AiReservationRecord, in one
   transaction; no balance, no call;
3. the call to Anthropic (metering.gateway.client);
4. the settlement, once, whatever happened to the call (a `finally` path for every exception): the real usage
   is recorded as two usage events (`ai_input_tokens`, `ai_output_tokens`, transaction ids
   `ai:<uuid>:input|output`), priced with the model's ModelPrice, and the wallet gets back what was reserved and
   not used (a refund, key `ai-settle:<uuid>`), or pays the difference if the real usage went over (a debit with
   the same key). A failed call settles with no usage: the whole reservation comes back.

A process that dies mid-request (OOM, SIGKILL) settles nothing: its record stays open, and the beat job
(ai_reservations_sweep) settles it once its deadline has passed, on the usage a stream recorded as it went, or
releases it. The record's conditional close makes the settlement happen exactly once, sweep or not.

Tokens are counted as Anthropic counts them: the wallet pays for every token processed, so a request costs
input + cache writes + cache reads + output tokens. The `ai_input_tokens` meter records the same total input
(cache tokens included); the event's properties keep the breakdown (`cache_write`, `cache_read`), and the
money cost uses each kind's own price.

A stream that ends without Anthropic's final usage (the client hung up, the upstream connection broke, the
stream ran past its deadline) is charged what it forwarded, counted conservatively: the output is the UTF-8
bytes of every text delta forwarded (a Claude token is at least one byte), never less than Anthropic's count so
far and never more than max_tokens (Anthropic generates no more); the input, when Anthropic has not told it
yet, is the reservation's input estimate.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from billing.selectors import entitlements_for
from config.api.errors import stream_error_event
from config.lookup_cache import OUTAGE_LAG_OK_S, lookup_cached, lookup_key
from config.money import Money, money_rate_round, money_to_api
from config.redis_guard import failure_log, redis_connection, redis_key
from metering.gateway.client import (
    AiError,
    AiMessage,
    AiUnavailable,
    AiUsage,
    MessageStream,
    UpstreamFailed,
    UpstreamTimeout,
    message_create,
    message_stream_open,
)
from metering.models import AiReservationRecord, ModelPrice, WalletEntry, WalletFeature
from metering.usage.selectors import active_meters
from metering.usage.services import event_ingest
from metering.wallets.services import wallet_debit, wallet_debit_or_owe, wallet_refund
from tenants.models import Tenant

logger = logging.getLogger(__name__)

MILLION = Decimal(1_000_000)
# The framing Anthropic adds around the prompt (roles, turn markers), allowed for in the input estimate.
REQUEST_OVERHEAD_TOKENS = 16
MESSAGE_OVERHEAD_TOKENS = 8
# The longest an AI request may run: a stream still going then is cut (at its next event, so within one
# upstream wait) and settled on what it sent. A reservation still open after that, plus the sweep's margin,
# belongs to a dead process.
AI_REQUEST_MAX_S = 600
SWEEP_MARGIN_S = 60
SWEEP_BATCH = 500
# A slot lives for one upstream wait (ANTHROPIC_TIMEOUT_S per attempt) plus this margin; a stream renews it
# while it forwards, more often than the margin, so only a dead request lets it lapse.
SLOT_MARGIN_S = 30
SLOT_RENEW_EVERY_S = 15.0
# A running stream writes the charge so far to its record this often: what the sweep charges if it dies.
USAGE_CHECKPOINT_S = 5.0


class AiConcurrencyExceeded(AiError):
    code = "rate_limited"
    status = 429
    retry_after_s = 1


# --- Reads ------------------------------------------------------------------------------------------------

def model_price_active_get(*, model: str) -> ModelPrice | None:
    """The price of a model the gateway accepts (an active ModelPrice row), or None."""
    return _model_prices_active().get(model)


def model_names_active() -> list[str]:
    return list(_model_prices_active())


def model_prices_key() -> str:
    return lookup_key("model-prices")


def _model_prices_active() -> dict[str, ModelPrice]:
    # Read on every AI request, so served from the per-process lookup cache; metering.signals forgets it when a
    # price changes. An empty table is cached too: the value is a dict, never None.
    return lookup_cached(model_prices_key(), lambda: {
        price.model: price for price in ModelPrice.objects.filter(active=True).order_by("model")},
        stale_ok_s=OUTAGE_LAG_OK_S)


# --- Pure functions ---------------------------------------------------------------------------------------

def input_tokens_estimate(*, system: str, messages: list[dict[str, str]]) -> int:
    """An upper bound of the input tokens before the call, so that real usage rarely exceeds the reservation:
    the UTF-8 bytes of the system prompt and messages (a Claude token is at least one byte, whereas CJK text,
    emoji and code run well under the 4 characters per token of English prose) plus an allowance for the
    framing. Anthropic's token counting would be exact but costs a round trip before every first byte."""
    text_bytes = len(system.encode()) + sum(len(message["content"].encode()) for message in messages)
    return text_bytes + REQUEST_OVERHEAD_TOKENS + MESSAGE_OVERHEAD_TOKENS * len(messages)


def stream_usage_charged(*, stream: MessageStream, max_tokens: int, input_estimate: int) -> AiUsage:
    """What a stream is charged. With Anthropic's final usage (message_delta), that usage. Without it (the
    client hung up, the upstream broke, the deadline cut it): the forwarded output counted as UTF-8 bytes,
    never below Anthropic's count so far nor above max_tokens, and the input estimate when Anthropic has not
    told the input yet. A stream that ended before its first event sent nothing and is charged nothing."""
    usage = stream.usage
    if stream.usage_final or not stream.started:
        return usage
    output = min(max_tokens, max(usage.output_tokens, stream.output_bytes))
    if stream.input_reported:
        return dataclasses.replace(usage, output_tokens=output)
    return dataclasses.replace(usage, input_tokens=max(usage.input_tokens, input_estimate), output_tokens=output)


def ai_cost(*, price: ModelPrice, usage: AiUsage) -> Money:
    """What the usage costs at the model's prices (per million tokens), in its currency, at rating precision
    (to the micro-unit, config.money): finer than the cents an invoice rounds to."""
    amount = (usage.input_tokens * price.input_per_mtok + usage.output_tokens * price.output_per_mtok
              + usage.cache_write_tokens * price.cache_write_per_mtok
              + usage.cache_read_tokens * price.cache_read_per_mtok) / MILLION
    return money_rate_round(Money(amount, price.currency))


# --- Concurrency slots ------------------------------------------------------------------------------------

# Drop the expired members, count the rest, add this one if under the limit: one atomic step, so a refused
# attempt writes nothing and a dead request's member stops counting at its own deadline.
SLOT_ACQUIRE_LUA = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
    return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


@dataclass
class AiSlot:
    """One of the tenant's concurrent AI requests: a member of the tenant's sorted set, scored by its deadline.
    release() gives it back (once, whatever calls it again); renew() pushes a live stream's deadline on."""

    key: str | None
    member: str = ""
    renewed_at: float = 0.0
    released: bool = False

    def renew(self, *, now: float) -> None:
        if self.key is None or self.released or now - self.renewed_at < SLOT_RENEW_EVERY_S:
            return
        self.renewed_at = now
        lease = slot_lease_s()
        try:
            pipeline = redis_connection().pipeline(transaction=False)
            pipeline.zadd(self.key, {self.member: now + lease}, xx=True)
            pipeline.expire(self.key, lease)
            pipeline.execute()
        except Exception as error:  # the request goes on; its slot may lapse, which only lets one more in
            _failure_log(error)

    def release(self) -> None:
        if self.key is None or self.released:
            return
        self.released = True
        try:
            redis_connection().zrem(self.key, self.member)
        except Exception as error:  # its deadline frees it in the end
            _failure_log(error)


def ai_slot_acquire(*, tenant: Tenant, request_id: uuid.UUID) -> AiSlot:
    """Take a slot, or raise AiConcurrencyExceeded when the plan's concurrent requests are all in use. Without
    a limit no slot is counted; with one and Redis unreachable the request is refused (AiUnavailable)."""
    limit = entitlements_for(tenant=tenant).concurrent_ai_requests
    if limit is None:
        return AiSlot(key=None)
    key, member, now, lease = slot_key(tenant), request_id.hex, time.time(), slot_lease_s()
    try:
        connection = redis_connection()
        taken = connection.register_script(SLOT_ACQUIRE_LUA)(keys=[key], args=[now, limit, now + lease, member,
                                                                               lease])
    except Exception as error:
        _failure_log(error)
        raise AiUnavailable("The AI API cannot check its concurrency limit right now; retry shortly.",
                            retry_after_s=5) from error
    if not taken:
        raise AiConcurrencyExceeded(f"Your plan allows {limit} concurrent AI request{'s' if limit != 1 else ''}; "
                                    "wait for one to finish.")
    return AiSlot(key=key, member=member, renewed_at=now)


def slot_key(tenant: Tenant) -> str:
    return redis_key("ai-slots", tenant.pk)


def slot_lease_s() -> int:
    """How long a slot lasts without renewal: the longest a call waits for Anthropic, every attempt, plus a
    margin."""
    attempts = settings.ANTHROPIC_MAX_RETRIES + 1
    return int(settings.ANTHROPIC_TIMEOUT_S * attempts) + SLOT_MARGIN_S


def _failure_log(error: Exception) -> None:
    failure_log("ai_limits_unavailable", error=type(error).__name__, fail_closed=True)


# --- Reservation and settlement -----------------------------------------------------------------------------

@dataclass
class AiReservation:
    tenant: Tenant
    price: ModelPrice
    request_id: uuid.UUID
    tokens: int
    created_by: str = ""
    created_at: datetime | None = None
    feature: str = WalletFeature.AI_API

    @property
    def cut_at(self) -> float:
        """When a stream of this request is cut (a Unix time)."""
        return self.created_at.timestamp() + AI_REQUEST_MAX_S if self.created_at else float("inf")


@dataclass(frozen=True)
class AiSettlement:
    usage: AiUsage
    cost: Money

    def as_dict(self) -> dict[str, Any]:
        """What the API tells about a settled request (its JSON answer and its stream's last event alike)."""
        return {"usage": self.usage.as_dict(), "cost": money_to_api(self.cost)}


def ai_reserve(*, tenant: Tenant, price: ModelPrice, tokens: int, request_id: uuid.UUID,
               created_by: str = "", feature: str = WalletFeature.AI_API,
               now: datetime | None = None) -> AiReservation:
    """Hold `tokens` of the wallet for one request (InsufficientBalance when it cannot, and nothing is written).
    `feature` says what the tokens pay for (the AI API, the coach, content generation) on the wallet's entries.

    The debit and the reservation's record commit together, so no debit exists without the record the sweep
    finds it by. The record is inserted first: the wallet's row lock, which the debit takes, is then held only
    until the commit."""
    now = now or timezone.now()
    deadline = now + timedelta(seconds=AI_REQUEST_MAX_S + slot_lease_s())
    with transaction.atomic():
        AiReservationRecord.objects.create(tenant=tenant, request_id=request_id, model=price.model, tokens=tokens,
                                           created_by=created_by[:255], created_at=now, deadline=deadline)
        wallet_debit(tenant=tenant, tokens=tokens, feature=feature,
                     reason=f"AI request {request_id} ({price.model}): reserved",
                     idempotency_key=f"ai-reserve:{request_id}",
                     created_by=created_by, now=now)
    return AiReservation(tenant=tenant, price=price, request_id=request_id, tokens=tokens, created_by=created_by,
                         created_at=now, feature=feature)


def ai_settle(*, reservation: AiReservation, usage: AiUsage,
              outcome: str = AiReservationRecord.Outcome.SETTLED) -> AiSettlement:
    """Record the request's usage and square the wallet with the reservation, exactly once.

    The first call closes the reservation's record (UPDATE ... WHERE settled_at IS NULL) and does the work in
    the same transaction; every later call for the request (a retry, a late settle racing the sweep) changes
    nothing and answers the settlement that was made. Usage events that cannot be stored do not stop the
    settlement: the record keeps the usage and says so, and the sweep stores them later."""
    with transaction.atomic():
        if not _reservation_close(reservation=reservation, usage=usage, outcome=outcome):
            return _settlement_made(reservation=reservation)
        if usage.total_tokens:
            _usage_events_try(reservation=reservation, usage=usage)
        _reservation_square(reservation=reservation, usage=usage)
    return AiSettlement(usage=usage, cost=ai_cost(price=reservation.price, usage=usage))


def _reservation_square(*, reservation: AiReservation, usage: AiUsage) -> None:
    """The wallet gets back what was reserved and not used, or pays what the usage went over."""
    request_id = reservation.request_id
    difference = reservation.tokens - usage.total_tokens
    key = f"ai-settle:{request_id}"
    if difference > 0:
        # Back to where the reservation took it from: an allowance it came from keeps expiring with its grant.
        wallet_refund(tenant=reservation.tenant, debit_key=f"ai-reserve:{request_id}", tokens=difference,
                      reason=f"AI request {request_id}: unused part of the reservation", idempotency_key=key,
                      created_by=reservation.created_by)
    elif difference < 0:
        # Already served: what the balance cannot cover is owed, never written off.
        wallet_debit_or_owe(tenant=reservation.tenant, tokens=-difference, feature=reservation.feature,
                            reason=f"AI request {request_id}: usage over the reservation", idempotency_key=key,
                            created_by=reservation.created_by)


def ai_release(*, reservation: AiReservation) -> None:
    """The call failed before any usage: the whole reservation comes back."""
    ai_settle(reservation=reservation, usage=AiUsage(), outcome=AiReservationRecord.Outcome.RELEASED)


def ai_reservation_checkpoint(*, reservation: AiReservation, usage: AiUsage) -> None:
    """Write what a running request would be charged now to its open record: what the sweep charges if the
    process dies before it settles."""
    AiReservationRecord.objects.filter(request_id=reservation.request_id, settled_at__isnull=True).update(
        usage=dataclasses.asdict(usage))


def ai_reservations_sweep(*, now: datetime | None = None) -> int:
    """Settle the reservations of requests that died (their record still open SWEEP_MARGIN_S after the
    deadline, past which no request runs): on the usage a stream recorded as it went, else released whole.
    Also stores the usage events a settlement could not. Returns how many reservations it settled.

    Exactly once against a late settle of the same request: both close the record conditionally, and only the
    one that closed it moves tokens."""
    now = now or timezone.now()
    swept = 0
    records = (AiReservationRecord.objects.filter(settled_at__isnull=True,
                                                  deadline__lt=now - timedelta(seconds=SWEEP_MARGIN_S))
               .select_related("tenant").order_by("deadline")[:SWEEP_BATCH])
    for record in records:
        usage = AiUsage(**record.usage) if record.usage else AiUsage()
        try:
            settlement = ai_settle(reservation=_reservation_of(record), usage=usage,
                                   outcome=AiReservationRecord.Outcome.SWEPT)
        except Exception:  # one bad row must not keep the others open
            logger.exception("ai_reservation_sweep_failed tenant=%s request=%s", record.tenant_id, record.request_id)
            continue
        swept += 1
        logger.warning("ai_reservation_swept tenant=%s request=%s reserved=%s charged=%s", record.tenant_id,
                       record.request_id, record.tokens, settlement.usage.total_tokens)
    _usage_events_retry()
    return swept


def _reservation_close(*, reservation: AiReservation, usage: AiUsage, outcome: str) -> bool:
    closed = AiReservationRecord.objects.filter(request_id=reservation.request_id, settled_at__isnull=True).update(
        settled_at=timezone.now(), outcome=outcome, usage=dataclasses.asdict(usage), usage_recorded=True)
    return closed == 1


def _settlement_made(*, reservation: AiReservation) -> AiSettlement:
    stored = AiReservationRecord.objects.values_list("usage", flat=True).get(request_id=reservation.request_id)
    usage = AiUsage(**stored) if stored else AiUsage()
    return AiSettlement(usage=usage, cost=ai_cost(price=reservation.price, usage=usage))


def _reservation_of(record: AiReservationRecord) -> AiReservation:
    # A price row is never deleted (only deactivated), so the record's model always has one.
    price = ModelPrice.objects.get(model=record.model)
    # The record keeps no feature: the reservation's own debit says what the request paid for.
    feature = (WalletEntry.objects.filter(wallet__tenant=record.tenant,
                                          idempotency_key=f"ai-reserve:{record.request_id}")
               .values_list("feature", flat=True).first()) or WalletFeature.AI_API
    return AiReservation(tenant=record.tenant, price=price, request_id=record.request_id, tokens=record.tokens,
                         created_by=record.created_by, created_at=record.created_at, feature=feature)


def _usage_events_try(*, reservation: AiReservation, usage: AiUsage) -> None:
    """Store the usage events; if that fails, the settlement goes on and the record is flagged for the sweep."""
    try:
        with transaction.atomic():
            _usage_events_record(reservation=reservation, usage=usage)
    except Exception:
        logger.exception("ai_usage_record_failed tenant=%s request=%s", reservation.tenant.pk,
                         reservation.request_id)
        AiReservationRecord.objects.filter(request_id=reservation.request_id).update(usage_recorded=False)


def _usage_events_retry() -> None:
    records = (AiReservationRecord.objects.filter(settled_at__isnull=False, usage_recorded=False)
               .select_related("tenant").order_by("settled_at")[:SWEEP_BATCH])
    for record in records:
        try:
            with transaction.atomic():
                _usage_events_record(reservation=_reservation_of(record), usage=AiUsage(**record.usage))
                AiReservationRecord.objects.filter(pk=record.pk).update(usage_recorded=True)
        except Exception:
            logger.exception("ai_usage_record_failed tenant=%s request=%s", record.tenant_id, record.request_id)


def _usage_events_record(*, reservation: AiReservation, usage: AiUsage) -> None:
    model = reservation.price.model
    common = {"model": model, "cache_write": usage.cache_write_tokens, "cache_read": usage.cache_read_tokens}
    result = event_ingest(tenant=reservation.tenant, meters=active_meters(), events=[
        {"transaction_id": f"ai:{reservation.request_id}:input", "meter": "ai_input_tokens",
         "properties": {"tokens": usage.total_input_tokens, **common}},
        {"transaction_id": f"ai:{reservation.request_id}:output", "meter": "ai_output_tokens",
         "properties": {"tokens": usage.output_tokens, **common}},
    ])
    for rejection in result.rejected:
        logger.error("ai_usage_event_rejected tenant=%s request=%s code=%s", reservation.tenant.pk,
                     reservation.request_id, rejection.code)


# --- One request, end to end --------------------------------------------------------------------------------

@dataclass(frozen=True)
class AiRequest:
    tenant: Tenant
    price: ModelPrice
    system: str
    messages: list[dict[str, str]]
    max_tokens: int
    temperature: float | None = None
    created_by: str = ""
    request_id: uuid.UUID = field(default_factory=uuid.uuid4)
    feature: str = WalletFeature.AI_API
    # Anthropic's tool definitions (name, description, input_schema), sent as they are; their JSON counts as input.
    tools: tuple[dict[str, Any], ...] = ()

    @property
    def reserve_tokens(self) -> int:
        tools_bytes = len(orjson.dumps(list(self.tools))) if self.tools else 0
        return self.max_tokens + input_tokens_estimate(system=self.system, messages=self.messages) + tools_bytes

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.price.model, "max_tokens": self.max_tokens,
                                  "messages": self.messages}
        if self.system:
            params["system"] = self.system
        if self.tools:
            params["tools"] = list(self.tools)
        if self.temperature is not None:
            # The SDK (2.x) has no keyword for it; the API takes it for the models that support it.
            params["extra_body"] = {"temperature": self.temperature}
        return params


@dataclass(frozen=True)
class AiCompletion:
    message: AiMessage
    settlement: AiSettlement


def ai_message_complete(*, request: AiRequest) -> AiCompletion:
    """Run one request and wait for the whole answer; settled before it returns, or released whatever the call
    raised (an upstream error, a bug in the SDK, the worker being stopped)."""
    slot = ai_slot_acquire(tenant=request.tenant, request_id=request.request_id)
    try:
        reservation = ai_reserve(tenant=request.tenant, price=request.price, tokens=request.reserve_tokens,
                                 request_id=request.request_id, created_by=request.created_by,
                                 feature=request.feature)
        try:
            message = message_create(params=request.params())
        except BaseException:
            ai_release(reservation=reservation)
            raise
        return AiCompletion(message=message, settlement=ai_settle(reservation=reservation, usage=message.usage))
    finally:
        slot.release()


def ai_message_stream(*, request: AiRequest) -> AiStream:
    """Open a streamed request: refusals (limits, balance, Anthropic's own) raise here, before any byte is sent;
    the returned AiStream yields the events and settles when it ends or is closed."""
    slot = ai_slot_acquire(tenant=request.tenant, request_id=request.request_id)
    try:
        reservation = ai_reserve(tenant=request.tenant, price=request.price, tokens=request.reserve_tokens,
                                 request_id=request.request_id, created_by=request.created_by,
                                 feature=request.feature)
        try:
            upstream = message_stream_open(params=request.params())
        except BaseException:
            ai_release(reservation=reservation)
            raise
    except BaseException:
        slot.release()
        raise
    return AiStream(upstream=upstream, reservation=reservation, slot=slot, max_tokens=request.max_tokens,
                    input_estimate=request.reserve_tokens - request.max_tokens)


class AiStream:
    """Anthropic's events as server-sent events, then `event: tollgate.usage` with what the request cost.

    Settles exactly once, whichever comes first: the end of the stream, an error mid-stream (sent on as
    `event: error`), the request's deadline (AI_REQUEST_MAX_S, also sent as an error), or close() (the server
    closes the response when the client goes away, even before the first event was read). Without Anthropic's
    final usage the charge is what was forwarded (stream_usage_charged). While it runs, it renews its slot and
    writes that charge to its reservation's record every few seconds, for the sweep should the process die."""

    def __init__(self, *, upstream: MessageStream, reservation: AiReservation, slot: AiSlot, max_tokens: int,
                 input_estimate: int):
        self.upstream = upstream
        self.reservation = reservation
        self.slot = slot
        self.max_tokens = max_tokens
        self.input_estimate = input_estimate
        self.settlement: AiSettlement | None = None
        self._checkpointed_at = time.time()
        self._frames = self._generate()

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return next(self._frames)

    def close(self) -> None:
        self._frames.close()
        self._finish()

    @property
    def usage_charged(self) -> AiUsage:
        return stream_usage_charged(stream=self.upstream, max_tokens=self.max_tokens,
                                    input_estimate=self.input_estimate)

    def _generate(self) -> Iterator[bytes]:
        cut_at = self.reservation.cut_at
        try:
            for frame in self.upstream.frames():
                now = time.time()
                if now >= cut_at:
                    raise UpstreamTimeout(f"The answer ran past the longest an AI request may take "
                                          f"({AI_REQUEST_MAX_S} s); it was cut there.")
                self._keep_alive(now)
                yield frame
        except AiError as error:
            logger.warning("ai_stream_failed tenant=%s request=%s code=%s", self.reservation.tenant.pk,
                           self.reservation.request_id, error.code)
            yield sse_frame("error", stream_error_event(error))
        except Exception:  # the 200 is already sent: tell the client in the stream, and settle below
            logger.exception("ai_stream_broken tenant=%s request=%s", self.reservation.tenant.pk,
                             self.reservation.request_id)
            yield sse_frame("error", stream_error_event(UpstreamFailed("The answer broke off.")))
        settlement = self._finish()
        yield sse_frame("tollgate.usage", {
            "type": "tollgate.usage", "id": self.upstream.message_id, "stop_reason": self.upstream.stop_reason,
            **settlement.as_dict(),
        })

    def _keep_alive(self, now: float) -> None:
        self.slot.renew(now=now)
        if now - self._checkpointed_at < USAGE_CHECKPOINT_S:
            return
        self._checkpointed_at = now
        try:
            ai_reservation_checkpoint(reservation=self.reservation, usage=self.usage_charged)
        except DatabaseError as error:  # the stream goes on; only a later death would be charged less
            logger.warning("ai_checkpoint_failed tenant=%s request=%s error=%s", self.reservation.tenant.pk,
                           self.reservation.request_id, type(error).__name__)

    def _finish(self) -> AiSettlement:
        if self.settlement is None:
            try:
                try:
                    self.upstream.close()
                finally:
                    self.settlement = ai_settle(reservation=self.reservation, usage=self.usage_charged)
            finally:
                self.slot.release()
        return self.settlement


def sse_frame(event: str, data: dict[str, Any]) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"
