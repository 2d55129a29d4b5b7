"""Idempotency-Key for POSTs that create things: executed once per (tenant, key), replayed for 24 hours.

Like Stripe's: a retry with the same key and body gets the first response again (with Idempotent-Replayed:
true); the same key with a different body is refused with 409 idempotency_key_reused; a retry that arrives
while the first request still runs waits for it, then gets 409 request_in_progress if it is still running.
Responses of 5xx or exceptions are not kept, so a retry after a crash runs again.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.errors import ApiError
from tenants.models import IdempotencyRecord, Tenant

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX_LENGTH = 255
RETENTION = timedelta(hours=24)


def idempotent(view_method: Callable) -> Callable:
    """Decorate an APIView's post(); without the header the request simply runs."""

    @wraps(view_method)
    def wrapper(view, request: Request, *args, **kwargs) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return view_method(view, request, *args, **kwargs)
        return idempotent_execute(tenant=request.tenant, key=key, fingerprint=request_fingerprint(request),
                                  execute=lambda: view_method(view, request, *args, **kwargs))

    return wrapper


def request_fingerprint(request: Request) -> str:
    canonical = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{canonical}".encode()).hexdigest()


def idempotent_execute(*, tenant: Tenant, key: str, fingerprint: str, execute: Callable[[], Response]) -> Response:
    if not key or len(key) > KEY_MAX_LENGTH or not key.isprintable():
        raise ApiError(status_code=400, code="invalid_request",
                       message=f"{HEADER} must be 1 to {KEY_MAX_LENGTH} printable characters.")
    record, created = _record_claim(tenant=tenant, key=key, fingerprint=fingerprint)
    if not created:
        return _answer_for_existing(record, fingerprint=fingerprint)
    try:
        response = execute()
    except Exception:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        raise
    if response.status_code >= 500:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return response
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.State.COMPLETED, response_status=response.status_code,
        response_body=json.dumps(response.data, cls=DjangoJSONEncoder),
    )
    return response


def _record_claim(*, tenant: Tenant, key: str, fingerprint: str) -> tuple[IdempotencyRecord, bool]:
    """Insert the in-progress record, or return the existing one. Committed at once so a concurrent retry
    sees it (requests run in autocommit)."""
    now = timezone.now()
    IdempotencyRecord.objects.filter(tenant=tenant, key=key, expires_at__lte=now).delete()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                tenant=tenant, key=key, request_fingerprint=fingerprint, expires_at=now + RETENTION
            )
        return record, True
    except IntegrityError:
        return IdempotencyRecord.objects.get(tenant=tenant, key=key), False


def _answer_for_existing(record: IdempotencyRecord, *, fingerprint: str) -> Response:
    if record.request_fingerprint != fingerprint:
        raise ApiError(status_code=409, code="idempotency_key_reused",
                       message=f"This {HEADER} was already used with a different request. Use a new key.")
    deadline = time.monotonic() + settings.IDEMPOTENCY_WAIT_S
    while record.state == IdempotencyRecord.State.IN_PROGRESS and time.monotonic() < deadline:
        time.sleep(0.05)
        record = IdempotencyRecord.objects.filter(pk=record.pk).first()
        if record is None:
            raise ApiError(status_code=409, code="request_in_progress",
                           message="The first request with this key failed; retry it.")
    if record.state == IdempotencyRecord.State.IN_PROGRESS:
        raise ApiError(status_code=409, code="request_in_progress",
                       message="A request with this key is still running. Retry in a moment.",
                       headers={"Retry-After": "1"})
    return Response(json.loads(record.response_body), status=record.response_status,
                    headers={REPLAYED_HEADER: "true"})
