"""API-call tracking: every /api/v1/ request becomes an `api_calls` usage event, without a database write on
the request path.

The request pushes one small record onto a Redis list (one round trip, ~0.1 ms) when its response is closed,
after the last byte went out, so it adds nothing to the response time; a beat job flushes the list into usage
events every few seconds, in chunks. A flush moves a chunk atomically from the list to a processing list of its
own (leased in a registry), ingests it, then deletes it. So two flushes never take the same records, a flush
that dies leaves its chunk to be adopted by a later one once the lease runs out (ingestion is deduplicated by
the record's transaction_id, so a chunk ingested twice counts once), and no trim can drop records nobody
stored. A lock with an owner token (redis-py's Lock, extended after each chunk) keeps flushes one at a time;
correctness does not depend on it. Records the ingestion rejects (a web server's clock more than 5 minutes
ahead, a backlog older than 35 days) are logged, counted and kept in a capped Redis list for inspection.

Calls made while Redis is unavailable to a web process (down, or skipped for REDIS_CIRCUIT_OPEN_S after a
failure: config.redis_guard) wait in that process, up to PENDING_MAX, and go to Redis with the next call it
records (or when it exits). What can be lost: records still in Redis if Redis itself dies without persistence;
calls beyond PENDING_MAX during a long outage, and those still waiting when a process stops while Redis is
unreachable (counted and logged, at most once a minute per process).
"""

from __future__ import annotations

import atexit
import contextvars
import logging
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import orjson
from celery import current_app
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from redis.exceptions import LockError

from config.redis_buffer import chunk_take, orphan_adopt
from config.redis_guard import failure_log, redis_available, redis_connection, redis_key
from metering.limits.quotas import api_call_count_queue, threshold_crossed
from metering.usage.selectors import active_meters
from metering.usage.services import event_ingest
from tenants.models import ApiKey, Tenant

logger = logging.getLogger(__name__)

TRACKED_PREFIX = "/api/v1/"
FLUSH_CHUNK = 1000
FLUSH_LOCK_TIMEOUT_S = 60
# A flush still holding a chunk this long after taking it is presumed dead; a later flush adopts the chunk. A
# flush that was only slow then has its chunk ingested twice, which deduplication makes harmless.
PROCESSING_LEASE_S = 300
FAILED_RETRY_S = 60
REJECTED_KEPT = 10_000
# Records kept in a web process while Redis is unavailable (about 300 bytes each), and how many of them go with
# one new record once it is back.
PENDING_MAX = 10_000
PENDING_PUSH_MAX = 1000
_pending: deque[bytes] = deque()
_lost = [0]  # records this process could neither hand to Redis nor keep, since it started

@dataclass(frozen=True)
class FlushResult:
    processed: int = 0  # records taken off Redis: stored, duplicates, or rejected
    rejected: int = 0


class ApiCallTrackingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        tenant = getattr(request, "tenant", None)
        if (settings.API_CALL_TRACKING_ENABLED and request.path.startswith(TRACKED_PREFIX)
                and tenant is not None and not tenant.is_public):
            # The WSGI server closes the response after sending it (a stream: after its last event). The
            # month's API-call counter moves then too, so a hard quota may let one in-flight call through. That
            # is after the request's scopes (config.lookup_cache, config.redis_guard), so the record is made in
            # a copy of the request's context: the plan's quota comes from the cache under the request's read of
            # the lookup generation (no second read), and whether the request already met a failed Redis is
            # passed along: a request tries Redis once.
            record = partial(self._record, request, response, tenant, redis_available())
            response._resource_closers.append(partial(contextvars.copy_context().run, record))
        return response

    def _record(self, request: HttpRequest, response: HttpResponse, tenant: Tenant, redis_usable: bool) -> None:
        match = getattr(request, "resolver_match", None)
        endpoint = f"/{match.route}" if match and match.route else "unmatched"
        # DRF copies the authenticated key onto the Django request as `auth`.
        auth = getattr(request, "auth", None)
        billable = 200 <= response.status_code < 300
        record = orjson.dumps({
            # Not the request id: clients may send their own X-Request-Id, and two calls must never merge.
            "tenant_id": tenant.pk, "transaction_id": f"call_{uuid.uuid4().hex}",
            "timestamp": timezone.now().isoformat(),
            "properties": {
                "endpoint": endpoint, "method": request.method, "status": response.status_code,
                "api_key_id": auth.pk if isinstance(auth, ApiKey) else None, "billable": billable,
            },
        })
        if not (redis_usable and redis_available()):
            _pending_keep([record], error="RedisSkipped")
            return
        waiting = _pending_take()
        try:
            # One round trip: the record (after any that waited in this process) and, for a billable call, the
            # monthly quota counter.
            pipeline = redis_connection().pipeline(transaction=False)
            pipeline.rpush(api_calls_key(), *waiting, record)
            quota = api_call_count_queue(tenant, pipeline) if billable and settings.RATE_LIMITS_ENABLED else None
            results = pipeline.execute()
        except Exception as error:  # tracking must never break the API
            _pending.extendleft(reversed(waiting))
            _pending_keep([record], error=type(error).__name__)
            return
        crossed = threshold_crossed(quota, used=results[1]) if quota is not None else None
        if crossed is not None:
            try:
                # By name: metering.tasks imports this module for its flush job, so it is not imported back.
                current_app.signature("metering.usage_alert_send", kwargs={
                    "tenant_id": tenant.pk, "meter_code": "api_calls", "threshold": crossed}).delay()
            except Exception as error:  # the broker: the call is recorded, only its alert is not
                logger.warning("usage_alert_not_enqueued tenant_id=%s threshold=%s error=%s", tenant.pk, crossed,
                               type(error).__name__)


def _pending_keep(records: list[bytes], *, error: str) -> None:
    """Keep records Redis could not take in this process, to go with the next call recorded once it is back;
    beyond PENDING_MAX they are lost. Both are counted and logged at most once a minute."""
    room = PENDING_MAX - len(_pending)
    _pending.extend(records[:max(0, room)])
    _lost[0] += max(0, len(records) - room)
    failure_log("api_call_tracking_unavailable", error=error, waiting_in_process=len(_pending),
                lost_total=_lost[0])


def _pending_take() -> list[bytes]:
    taken: list[bytes] = []
    while _pending and len(taken) < PENDING_PUSH_MAX:
        try:
            taken.append(_pending.popleft())
        except IndexError:  # another thread took the last one
            break
    return taken


def _pending_push_at_exit() -> None:
    """A web process that stops while records wait in it hands them to Redis, if Redis answers."""
    while _pending:
        waiting = _pending_take()
        try:
            redis_connection().rpush(api_calls_key(), *waiting)
        except Exception as error:
            logger.warning("api_calls_lost_at_exit count=%s error=%s", len(waiting) + len(_pending),
                           type(error).__name__)
            return


atexit.register(_pending_push_at_exit)


def api_calls_flush(*, max_chunks: int = 100) -> FlushResult:
    """Move buffered API calls into usage events: chunks a dead flush left behind first, then the buffer."""
    redis = redis_connection()
    lock = redis.lock(api_calls_key("flush-lock"), timeout=FLUSH_LOCK_TIMEOUT_S)
    if not lock.acquire(blocking=False):
        return FlushResult()
    processed = rejected = 0
    try:
        meters = active_meters()
        for _ in range(max_chunks):
            processing_key = api_calls_key("processing", uuid.uuid4().hex)
            items = _orphan_adopt(redis, processing_key) or _chunk_take(redis, processing_key)
            if not items:
                break
            rejected += _chunk_ingest(redis, processing_key, items, meters=meters)
            processed += len(items)
            try:
                lock.reacquire()  # another FLUSH_LOCK_TIMEOUT_S for the next chunk
            except LockError:  # it lapsed and another flush took it: leave the rest to that one
                logger.warning("api_calls_flush_lock_lost processed=%s", processed)
                break
    finally:
        try:
            lock.release()  # only if still ours: the token must match
        except LockError:
            logger.warning("api_calls_flush_lock_lapsed processed=%s", processed)
    return FlushResult(processed=processed, rejected=rejected)


def api_calls_key(*parts: str) -> str:
    """The buffer (no parts) and the keys around it: "flush-lock", "processing" (the registry of chunks being
    flushed), "processing", <id> (one chunk), "rejected"."""
    return redis_key("api-calls", *parts)


def _registry_key() -> str:
    return api_calls_key("processing")


def _chunk_take(redis, processing_key: str) -> list[bytes]:
    return chunk_take(redis, buffer_key=api_calls_key(), processing_key=processing_key, registry_key=_registry_key(),
                      chunk=FLUSH_CHUNK, lease_s=PROCESSING_LEASE_S)


def _orphan_adopt(redis, processing_key: str) -> list[bytes]:
    return orphan_adopt(redis, processing_key=processing_key, registry_key=_registry_key(),
                        lease_s=PROCESSING_LEASE_S)


def _chunk_ingest(redis, processing_key: str, items: list[bytes], *, meters: dict) -> int:
    """Ingest one chunk, keep what was rejected, then drop the chunk. Returns how many were rejected."""
    records = [orjson.loads(item) for item in items]
    by_tenant: dict[int, list[dict]] = defaultdict(list)
    for record in records:
        by_tenant[record["tenant_id"]].append(record)
    tenants = Tenant.objects.in_bulk(list(by_tenant))
    rejected: list[dict] = []
    try:
        for tenant_id, tenant_records in by_tenant.items():
            if tenant_id not in tenants:
                rejected += [{"code": "unknown_tenant", "record": record} for record in tenant_records]
                continue
            events = [{key: value for key, value in record.items() if key != "tenant_id"} | {"meter": "api_calls"}
                      for record in tenant_records]
            result = event_ingest(tenant=tenants[tenant_id], events=events, meters=meters, now=timezone.now())
            rejected += [{"code": rejection.code, "message": rejection.message,
                          "record": tenant_records[rejection.index]} for rejection in result.rejected]
    except Exception:
        # Not dead, failed (the database, say): retried in a minute, while the flushes in between take the
        # buffer on, so one chunk that keeps failing cannot hold every later record back.
        redis.zadd(_registry_key(), {processing_key: time.time() + FAILED_RETRY_S})
        raise
    # One transaction: the rejected records are kept exactly when the chunk goes.
    pipeline = redis.pipeline(transaction=True)
    if rejected:
        pipeline.rpush(api_calls_key("rejected"), *(orjson.dumps(entry) for entry in rejected))
        pipeline.ltrim(api_calls_key("rejected"), -REJECTED_KEPT, -1)
    pipeline.delete(processing_key)
    pipeline.zrem(_registry_key(), processing_key)
    pipeline.execute()
    if rejected:
        codes = Counter(entry["code"] for entry in rejected)
        logger.warning("api_calls_rejected count=%s codes=%s kept_in=%s:rejected", len(rejected),
                       ",".join(f"{code}:{count}" for code, count in sorted(codes.items())),
                       api_calls_key())
    return len(rejected)
