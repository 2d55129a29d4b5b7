"""API-call tracking: every /api/v1/ request becomes an `api_calls` usage event, without a database write on
the request path.

The request pushes one small record onto a Redis list (one round trip, ~0.1 ms) when its response is closed,
after the last byte went out, so it adds nothing to the response time; a beat job flushes the list
into usage events every few seconds, in batches, under a lock. The flush reads a chunk, ingests it, and only
then trims it from the list, so a crash mid-flush loses nothing (the retry is deduplicated by the record's
transaction_id). What can be lost: records still in Redis if Redis itself dies without persistence,
and calls made while Redis is unreachable (logged, at most once a minute per process). A graceful web
shutdown loses nothing: no record waits in the process.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from functools import partial

import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django_redis import get_redis_connection

from metering.quotas import api_call_count_queue, threshold_crossed
from metering.selectors import active_meters
from metering.services import event_ingest
from metering.tasks import usage_alert_send
from tenants.models import ApiKey, Tenant

logger = logging.getLogger(__name__)

FLUSH_CHUNK = 1000
TRACKED_PREFIX = "/api/v1/"
LOG_EVERY_S = 60.0


class ApiCallTrackingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self._last_failure_logged = 0.0

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        tenant = getattr(request, "tenant", None)
        if (settings.API_CALL_TRACKING_ENABLED and request.path.startswith(TRACKED_PREFIX)
                and tenant is not None and not tenant.is_public):
            # The WSGI server closes the response after sending it (a stream: after its last event). The
            # month's API-call counter moves then too, so a hard quota may let one in-flight call through.
            response._resource_closers.append(partial(self._record, request, response, tenant))
        return response

    def _record(self, request: HttpRequest, response: HttpResponse, tenant: Tenant) -> None:
        match = getattr(request, "resolver_match", None)
        endpoint = f"/{match.route}" if match and match.route else "unmatched"
        # DRF copies the authenticated key onto the Django request as `auth`.
        auth = getattr(request, "auth", None)
        record = {
            # Not the request id: clients may send their own X-Request-Id, and two calls must never merge.
            "tenant_id": tenant.pk, "transaction_id": f"call_{uuid.uuid4().hex}",
            "timestamp": timezone.now().isoformat(),
            "properties": {
                "endpoint": endpoint, "method": request.method, "status": response.status_code,
                "api_key_id": auth.pk if isinstance(auth, ApiKey) else None,
                "billable": 200 <= response.status_code < 300,
            },
        }
        try:
            # One round trip: the buffered record and, for a billable call, the monthly quota counter.
            pipeline = get_redis_connection("default").pipeline(transaction=False)
            pipeline.rpush(settings.API_CALLS_BUFFER_KEY, orjson.dumps(record))
            quota = None
            if record["properties"]["billable"] and settings.RATE_LIMITS_ENABLED:
                quota = api_call_count_queue(tenant, pipeline)
            results = pipeline.execute()
            crossed = threshold_crossed(quota, used=results[1]) if quota is not None else None
            if crossed is not None:
                usage_alert_send.delay(tenant_id=tenant.pk, meter_code="api_calls", threshold=crossed)
        except Exception as error:  # tracking must never break the API; say so, not once per request
            now = time.monotonic()
            if now - self._last_failure_logged >= LOG_EVERY_S:
                self._last_failure_logged = now
                logger.warning("api_call_tracking_unavailable error=%s", type(error).__name__)


def api_calls_flush(*, max_chunks: int = 100) -> int:
    """Move buffered API calls into usage events. Returns how many records were processed."""
    redis = get_redis_connection("default")
    buffer_key, lock_key = settings.API_CALLS_BUFFER_KEY, f"{settings.API_CALLS_BUFFER_KEY}:flush-lock"
    if not redis.set(lock_key, "1", nx=True, ex=60):
        return 0
    processed = 0
    try:
        meters = active_meters()
        for _ in range(max_chunks):
            raw = redis.lrange(buffer_key, 0, FLUSH_CHUNK - 1)
            if not raw:
                break
            by_tenant: dict[int, list[dict]] = defaultdict(list)
            for item in raw:
                record = orjson.loads(item)
                by_tenant[record.pop("tenant_id")].append(record | {"meter": "api_calls"})
            tenants = Tenant.objects.in_bulk(list(by_tenant))
            for tenant_id, events in by_tenant.items():
                if tenant_id in tenants:
                    event_ingest(tenant=tenants[tenant_id], events=events, meters=meters, now=timezone.now())
            redis.ltrim(buffer_key, len(raw), -1)
            processed += len(raw)
    finally:
        redis.delete(lock_key)
    return processed
