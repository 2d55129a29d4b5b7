"""The metered AI gateway: a request to Claude paid from the tenant's AI-token wallet.

One request, in order:
1. a concurrency slot (the plan's `concurrent_ai_requests`, a Redis counter per tenant; with Redis unreachable
   the gateway refuses: it fails closed, unlike the API rate limits);
2. a reservation: a wallet debit of `max_tokens` plus an estimate of the input (characters / 4, rounded up),
   key `ai-reserve:<request uuid>`; no balance, no call;
3. the call to Anthropic (metering.ai_client);
4. the settlement, once: the real usage from the final message is recorded as two usage events
   (`ai_input_tokens`, `ai_output_tokens`, transaction ids `ai:<uuid>:input|output`), priced with the model's
   ModelPrice, and the wallet gets back what was reserved and not used (a refund, key `ai-settle:<uuid>`), or
   pays the difference if the real usage went over (a debit with the same key). A failed call settles with no
   usage: the whole reservation comes back.

Tokens are counted as Anthropic counts them: the wallet pays for every token processed, so a request costs
input + cache writes + cache reads + output tokens. The `ai_input_tokens` meter records the same total input
(cache tokens included); the event's properties keep the breakdown (`cache_write`, `cache_read`), and the
money cost uses each kind's own price.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import orjson
from django.core.cache import cache
from django_redis import get_redis_connection

from billing.selectors import entitlements_for
from metering.ai_client import (
    AiError,
    AiMessage,
    AiUnavailable,
    AiUsage,
    MessageStream,
    message_create,
    message_stream_open,
)
from metering.models import ModelPrice, WalletFeature
from metering.selectors import active_meters
from metering.services import event_ingest
from metering.wallet_services import wallet_debit, wallet_debit_or_owe, wallet_refund
from tenants.models import Tenant

logger = logging.getLogger(__name__)

MILLION = Decimal(1_000_000)
COST_QUANTUM = Decimal("0.000001")
CHARS_PER_TOKEN = 4
# A slot a crashed process never released frees itself after this long without any AI request of the tenant.
SLOT_TTL_S = 900
LOG_EVERY_S = 60.0
_last_failure_logged = [0.0]


class AiConcurrencyExceeded(AiError):
    code = "rate_limited"
    status = 429
    retry_after_s = 1


# --- Reads ------------------------------------------------------------------------------------------------

# The price table is read on every AI request; a process keeps it this long. A change made in admin reaches
# every process within this many seconds (at once in the process that made it: metering.signals).
MODEL_PRICES_TTL_S = 10.0
_model_prices: list = [0.0, None]  # [loaded at (monotonic), {model: ModelPrice} of the active rows]


def model_price_active_get(*, model: str) -> ModelPrice | None:
    """The price of a model the gateway accepts (an active ModelPrice row), or None."""
    return _model_prices_active().get(model)


def model_names_active() -> list[str]:
    return list(_model_prices_active())


def model_prices_forget() -> None:
    """Drop this process's copy of the price table (after a change; tests)."""
    _model_prices[1] = None


def _model_prices_active() -> dict[str, ModelPrice]:
    loaded_at, prices = _model_prices
    now = time.monotonic()
    if prices is None or now - loaded_at >= MODEL_PRICES_TTL_S:
        prices = {price.model: price for price in ModelPrice.objects.filter(active=True).order_by("model")}
        _model_prices[:] = [now, prices]
    return prices


# --- Pure functions ---------------------------------------------------------------------------------------

def input_tokens_estimate(*, system: str, messages: list[dict[str, str]]) -> int:
    """A cautious guess of the input tokens before the call: characters / 4, rounded up (at least 1)."""
    characters = len(system) + sum(len(message["content"]) for message in messages)
    return max(1, math.ceil(characters / CHARS_PER_TOKEN))


def ai_cost(*, price: ModelPrice, usage: AiUsage) -> Decimal:
    """What the usage costs at the model's prices (per million tokens), in its currency, to the micro-unit."""
    amount = (usage.input_tokens * price.input_per_mtok + usage.output_tokens * price.output_per_mtok
              + usage.cache_write_tokens * price.cache_write_per_mtok
              + usage.cache_read_tokens * price.cache_read_per_mtok) / MILLION
    return amount.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)


# --- Concurrency slots ------------------------------------------------------------------------------------

@dataclass
class AiSlot:
    """One of the tenant's concurrent AI requests; release() gives it back (once, whatever calls it again)."""

    key: str | None
    released: bool = False

    def release(self) -> None:
        if self.key is None or self.released:
            return
        self.released = True
        try:
            get_redis_connection("default").decr(self.key)
        except Exception as error:  # the TTL frees it in the end
            _failure_log(error)


def ai_slot_acquire(*, tenant: Tenant) -> AiSlot:
    """Take a slot, or raise AiConcurrencyExceeded when the plan's concurrent requests are all in use. Without
    a limit no slot is counted; with one and Redis unreachable the request is refused (AiUnavailable)."""
    limit = entitlements_for(tenant).concurrent_ai_requests
    if limit is None:
        return AiSlot(key=None)
    key = slot_key(tenant)
    try:
        pipeline = get_redis_connection("default").pipeline()
        pipeline.incr(key)
        pipeline.expire(key, SLOT_TTL_S)
        in_flight, _ = pipeline.execute()
    except Exception as error:
        _failure_log(error)
        raise AiUnavailable("The AI API cannot check its concurrency limit right now; retry shortly.",
                            retry_after_s=5) from error
    slot = AiSlot(key=key)
    if in_flight > limit:
        slot.release()
        raise AiConcurrencyExceeded(f"Your plan allows {limit} concurrent AI request{'s' if limit != 1 else ''}; "
                                    "wait for one to finish.")
    return slot


def slot_key(tenant: Tenant) -> str:
    return f"{cache.key_prefix or 'tollgate'}:ai-inflight:{tenant.pk}"


def _failure_log(error: Exception) -> None:
    now = time.monotonic()
    if now - _last_failure_logged[0] >= LOG_EVERY_S:
        _last_failure_logged[0] = now
        logger.warning("ai_limits_unavailable error=%s fail_closed=True", type(error).__name__)


# --- Reservation and settlement -----------------------------------------------------------------------------

@dataclass
class AiReservation:
    tenant: Tenant
    price: ModelPrice
    request_id: uuid.UUID
    tokens: int
    created_by: str = ""


@dataclass(frozen=True)
class AiSettlement:
    usage: AiUsage
    cost: Decimal
    currency: str


def ai_reserve(*, tenant: Tenant, price: ModelPrice, tokens: int, request_id: uuid.UUID,
               created_by: str = "") -> AiReservation:
    """Hold `tokens` of the wallet for one request (InsufficientBalance when it cannot)."""
    wallet_debit(tenant=tenant, tokens=tokens, feature=WalletFeature.AI_API,
                 reason=f"AI request {request_id} ({price.model}): reserved",
                 idempotency_key=f"ai-reserve:{request_id}",
                 created_by=created_by)
    return AiReservation(tenant=tenant, price=price, request_id=request_id, tokens=tokens, created_by=created_by)


def ai_settle(*, reservation: AiReservation, usage: AiUsage) -> AiSettlement:
    """Record the request's real usage and square the wallet with the reservation. Safe to call again for the
    same request with the same usage: usage events and the wallet entry are keyed on the request uuid."""
    request_id = reservation.request_id
    if usage.total_tokens:
        _usage_events_record(reservation=reservation, usage=usage)
    difference = reservation.tokens - usage.total_tokens
    key = f"ai-settle:{request_id}"
    if difference > 0:
        # Back to where the reservation took it from: an allowance it came from keeps expiring with its grant.
        wallet_refund(tenant=reservation.tenant, debit_key=f"ai-reserve:{request_id}", tokens=difference,
                      reason=f"AI request {request_id}: unused part of the reservation", idempotency_key=key,
                      created_by=reservation.created_by)
    elif difference < 0:
        # Already served: what the balance cannot cover is owed, never written off.
        wallet_debit_or_owe(tenant=reservation.tenant, tokens=-difference, feature=WalletFeature.AI_API,
                            reason=f"AI request {request_id}: usage over the reservation", idempotency_key=key,
                            created_by=reservation.created_by)
    return AiSettlement(usage=usage, cost=ai_cost(price=reservation.price, usage=usage),
                        currency=reservation.price.currency)


def ai_release(*, reservation: AiReservation) -> None:
    """The call failed before any usage: the whole reservation comes back."""
    ai_settle(reservation=reservation, usage=AiUsage())


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

    @property
    def reserve_tokens(self) -> int:
        return self.max_tokens + input_tokens_estimate(system=self.system, messages=self.messages)

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.price.model, "max_tokens": self.max_tokens,
                                  "messages": self.messages}
        if self.system:
            params["system"] = self.system
        if self.temperature is not None:
            # The SDK (2.x) has no keyword for it; the API takes it for the models that support it.
            params["extra_body"] = {"temperature": self.temperature}
        return params


@dataclass(frozen=True)
class AiCompletion:
    message: AiMessage
    settlement: AiSettlement


def ai_message_complete(*, request: AiRequest) -> AiCompletion:
    """Run one request and wait for the whole answer; settled before it returns."""
    slot = ai_slot_acquire(tenant=request.tenant)
    try:
        reservation = ai_reserve(tenant=request.tenant, price=request.price, tokens=request.reserve_tokens,
                                 request_id=request.request_id, created_by=request.created_by)
        try:
            message = message_create(params=request.params())
        except AiError:
            ai_release(reservation=reservation)
            raise
        return AiCompletion(message=message, settlement=ai_settle(reservation=reservation, usage=message.usage))
    finally:
        slot.release()


def ai_message_stream(*, request: AiRequest) -> AiStream:
    """Open a streamed request: refusals (limits, balance, Anthropic's own) raise here, before any byte is sent;
    the returned AiStream yields the events and settles when it ends or is closed."""
    slot = ai_slot_acquire(tenant=request.tenant)
    try:
        reservation = ai_reserve(tenant=request.tenant, price=request.price, tokens=request.reserve_tokens,
                                 request_id=request.request_id, created_by=request.created_by)
        try:
            upstream = message_stream_open(params=request.params())
        except AiError:
            ai_release(reservation=reservation)
            raise
    except BaseException:
        slot.release()
        raise
    return AiStream(upstream=upstream, reservation=reservation, slot=slot)


class AiStream:
    """Anthropic's events as server-sent events, then `event: tollgate.usage` with what the request cost.

    Settles exactly once, with the usage seen so far, whichever comes first: the end of the stream, an error
    from Anthropic mid-stream (sent on as `event: error`), or close() (the server closes the response when the
    client goes away, even before the first event was read)."""

    def __init__(self, *, upstream: MessageStream, reservation: AiReservation, slot: AiSlot):
        self.upstream = upstream
        self.reservation = reservation
        self.slot = slot
        self.settlement: AiSettlement | None = None
        self._frames = self._generate()

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return next(self._frames)

    def close(self) -> None:
        self._frames.close()
        self._finish()

    def _generate(self) -> Iterator[bytes]:
        try:
            yield from self.upstream.frames()
        except AiError as error:
            logger.warning("ai_stream_failed tenant=%s request=%s code=%s", self.reservation.tenant.pk,
                           self.reservation.request_id, error.code)
            yield sse_frame("error", {"type": "error", "error": {"code": error.code, "message": error.message}})
        settlement = self._finish()
        yield sse_frame("tollgate.usage", {
            "type": "tollgate.usage", "id": self.upstream.message_id, "stop_reason": self.upstream.stop_reason,
            "usage": settlement.usage.as_dict(),
            "cost": {"amount": str(settlement.cost), "currency": settlement.currency},
        })

    def _finish(self) -> AiSettlement:
        if self.settlement is None:
            try:
                self.upstream.close()
                self.settlement = ai_settle(reservation=self.reservation, usage=self.upstream.usage)
            finally:
                self.slot.release()
        return self.settlement


def sse_frame(event: str, data: dict[str, Any]) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"
