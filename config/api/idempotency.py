"""Idempotency-Key for POSTs that create things: executed once per (tenant, caller, key), replayed for 24 hours.

Like Stripe's: a retry with the same key and body gets the first response again (with Idempotent-Replayed:
true); the same key with a different body is refused with 409 idempotency_key_reused; a retry that arrives
while the first request still runs waits for it, then gets 409 request_in_progress if it is still running.
Responses of 5xx or exceptions are not kept, so a retry after a failure runs again.

What keeps a replay from serving anyone else, or serving what should not be kept:

- **Per caller.** A record belongs to the API key, or the signed-in user, that sent the first request, within
  its tenant. The same key sent by another caller is another record and runs on its own: nobody is answered
  with a response made for someone else.
- **Checks first.** The replay is served from the view's handler, so DRF's `initial()` (authentication, scope
  and role, throttles) has run; a view with checks of its own runs them before `idempotent_response()`.
- **No secret at rest.** A view names the fields of its response that are secrets; the stored response leaves
  them out, and a replay answers 409 secret_already_shown (the secret was shown once, to the first request).
- **Crash-safe.** The work and the record's completion commit in one transaction, so a request that crashes
  leaves nothing done and its record in progress. After IDEMPOTENCY_IN_PROGRESS_TIMEOUT_S a retry takes it
  over (one guarded UPDATE: of two racing retries exactly one wins). A request that was only slow then finds
  the record no longer its own when it completes, and its work is rolled back: it still runs once.

The records live in the app that owns their model: settings.API_IDEMPOTENCY_STORE names the store class
(tenants.idempotency_store.IdempotencyStore), so this kit imports no app.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Collection
from datetime import timedelta
from functools import lru_cache, wraps
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.errors import ApiError

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX_LENGTH = 255
# Visible ASCII, with spaces only inside: HTTP servers strip a header value's outer spaces, so a key that
# began or ended with one would arrive as another key. The OpenAPI schema publishes this same pattern.
KEY_PATTERN = rf"^[!-~](?:[ -~]{{0,{KEY_MAX_LENGTH - 2}}}[!-~])?$"
_KEY_RE = re.compile(KEY_PATTERN)
RETENTION = timedelta(hours=24)


def idempotent(view_method: Callable) -> Callable:
    """Decorate an APIView's post() whose checks are all in DRF's initial(); without the header the request
    simply runs."""

    @wraps(view_method)
    def wrapper(view, request: Request, *args, **kwargs) -> Response:
        return idempotent_response(request, execute=lambda: view_method(view, request, *args, **kwargs))

    return wrapper


def idempotent_response(request: Request, *, execute: Callable[[], Response],
                        secret_fields: Collection[str] = ()) -> Response:
    """`execute()` once per Idempotency-Key of this caller, or the first answer again. Call it after every
    check of the request: a replay skips whatever `execute` does. `secret_fields` are top-level fields of the
    response that must never be stored (a replay of such a response answers 409 secret_already_shown)."""
    key = request.headers.get(HEADER)
    if key is None:
        return execute()
    if not _KEY_RE.fullmatch(key):
        raise ApiError(status_code=400, code="invalid_request",
                       message=f"{HEADER} must be 1 to {KEY_MAX_LENGTH} visible ASCII characters "
                               "(spaces allowed, but not first or last).",
                       details={"fields": {HEADER: [f"Match {KEY_PATTERN}"]}})
    fingerprint = request_fingerprint(request)
    record, created = _record_claim(tenant=request.tenant, caller=request_caller(request), key=key,
                                    fingerprint=fingerprint)
    if not created:
        if record.request_fingerprint != fingerprint:
            raise ApiError(status_code=409, code="idempotency_key_reused",
                           message=f"This {HEADER} was already used with a different request. Use a new key.")
        if not _record_take_over(record):
            return _replay(_record_wait(record))
    return _execute_recorded(record, execute=execute, secret_fields=frozenset(secret_fields))


def request_caller(request: Request) -> str:
    """Who sends the request: the API key (request.auth, set by the key authentication) or the signed-in user
    (session authentication sets no request.auth). Records are kept per caller."""
    if request.auth is not None:
        return f"key:{request.auth.pk}"
    if not request.user.is_authenticated:
        # Every idempotent endpoint requires a caller; without one, all anonymous callers would share records.
        raise ApiError(status_code=401, code="unauthenticated", message="Authentication is required.")
    return f"user:{request.user.pk}"


def request_fingerprint(request: Request) -> str:
    canonical = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{canonical}".encode()).hexdigest()


def _store() -> Any:
    return _store_load(settings.API_IDEMPOTENCY_STORE)


@lru_cache(maxsize=None)
def _store_load(path: str) -> Any:
    """The store named by API_IDEMPOTENCY_STORE: claim, in_progress, take_over, complete, release and reload
    of records that carry request_fingerprint, started_at, response_status, response_body and
    secret_withheld (see tenants.idempotency_store)."""
    return import_string(path)()


def _record_claim(*, tenant: Any, caller: str, key: str, fingerprint: str) -> tuple[Any, bool]:
    now = timezone.now()
    record, created = _store().claim(tenant=tenant, caller=caller, key=key, fingerprint=fingerprint, now=now,
                                     expires_at=now + RETENTION)
    if record is None:
        raise _first_request_failed()
    return record, created


def _record_take_over(record: Any) -> bool:
    """Make a record whose request has been in progress too long (it crashed) ours."""
    store = _store()
    if not store.in_progress(record):
        return False
    now = timezone.now()
    stale_since = record.started_at
    stale_before = now - timedelta(seconds=settings.IDEMPOTENCY_IN_PROGRESS_TIMEOUT_S)
    if not store.take_over(record, stale_before=stale_before, now=now, expires_at=now + RETENTION):
        return False
    logger.warning("idempotency_record_taken_over tenant_id=%s record_id=%s stale_since=%s",
                   record.tenant_id, record.pk, stale_since.isoformat())
    return True


def _execute_recorded(record: Any, *, execute: Callable[[], Response], secret_fields: frozenset[str]) -> Response:
    """Run the request and complete its record in one transaction. Once a retry has taken the record over,
    completing it fails and our work is rolled back."""
    store = _store()
    try:
        with transaction.atomic():
            response = execute()
            if response.status_code >= 500:
                transaction.set_rollback(True)
            elif not store.complete(record, response_status=response.status_code,
                                    **_stored_response(response.data, secret_fields=secret_fields)):
                raise ApiError(status_code=409, code="request_in_progress",
                               message="This request ran so long that a retry with the same key took it over; "
                                       "nothing it did was kept. The retry's answer is the one that counts.")
    except Exception:
        store.release(record)
        raise
    if response.status_code >= 500:
        store.release(record)
    return response


def _stored_response(data: object, *, secret_fields: frozenset[str]) -> dict:
    withheld = isinstance(data, dict) and bool(secret_fields & data.keys())
    if withheld:
        data = {name: value for name, value in data.items() if name not in secret_fields}
    return {"response_body": json.dumps(data, cls=DjangoJSONEncoder), "secret_withheld": withheld}


def _record_wait(record: Any) -> Any:
    """The record once its request has completed, waiting up to IDEMPOTENCY_WAIT_S for it."""
    store = _store()
    deadline = time.monotonic() + settings.IDEMPOTENCY_WAIT_S
    while store.in_progress(record) and time.monotonic() < deadline:
        time.sleep(0.05)
        record = store.reload(record)
        if record is None:
            raise _first_request_failed()
    if store.in_progress(record):
        raise ApiError(status_code=409, code="request_in_progress",
                       message="A request with this key is still running. Retry in a moment.",
                       headers={"Retry-After": "1"})
    return record


def _replay(record: Any) -> Response:
    body = json.loads(record.response_body)
    if record.secret_withheld:
        raise ApiError(
            status_code=409, code="secret_already_shown",
            message=f"The first request with this {HEADER} succeeded and its secret was shown once, in that "
                    "response; it is not kept anywhere. If it was lost, revoke what was created and create a "
                    "new one.",
            details={"created": body},
        )
    return Response(body, status=record.response_status, headers={REPLAYED_HEADER: "true"})


def _first_request_failed() -> ApiError:
    return ApiError(status_code=409, code="request_in_progress",
                    message="The first request with this key failed; retry it.", headers={"Retry-After": "1"})
