"""The one way our code reaches Redis, and Redis on the request path failing fast, at most once per request.

`redis_connection()` is the default cache's connection (the only call of django-redis's get_redis_connection),
`redis_key(*parts)` the one scheme of our own keys: `<CACHES default KEY_PREFIX, or "tollgate">:<part>:...`, so
that every key of a deployment (or of a test process, which has its own KEY_PREFIX) shares one namespace. The
keys: `lookup:*` (config.lookup_cache), `api-calls` and `api-calls:*` (metering.limits.tracking),
`quota:<meter>:<tenant>:<yyyymm>` (metering.limits.quotas), `ai-slots:<tenant>` (metering.gateway.services).

Every command on the default cache's connections (our own code, django-ratelimit, allauth) runs through
`GuardedRetry`, the retry policy `GuardedConnectionPool` gives each connection (settings CACHES). It never
retries a timeout, and after a failed command it marks the current request as failed and opens this process's
circuit for REDIS_CIRCUIT_OPEN_S. While either holds, a command raises `RedisSkipped` at once instead
of reaching for Redis. With the short REDIS_CONNECT_TIMEOUT_S and REDIS_SOCKET_TIMEOUT_S, an unreachable or
black-holed Redis costs a request at most one timeout, and the process's next requests none for a few seconds.

What a caller does without Redis stays its own decision (rate limits and quotas fail open by default, lookups
read the database, the AI concurrency slot refuses with 503); `redis_available()` lets it skip work it knows
is pointless. The request scope is opened by `config.lookup_cache.lookup_request` (the tenant routing
middleware), whose read of the lookup generation is the first Redis command of a request; work after the
response (API-call tracking) runs in a copy of the request's context, and so in its scope.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django_redis import get_redis_connection
from redis import Redis
from redis.backoff import NoBackoff
from redis.connection import ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

logger = logging.getLogger(__name__)

T = TypeVar("T")

LOG_EVERY_S = 60.0


class RedisSkipped(RedisConnectionError):
    """Not sent: Redis failed earlier in this request, or in this process moments ago."""


@dataclass
class _RequestState:
    failed: bool = False


_request: ContextVar[_RequestState | None] = ContextVar("redis_guard_request", default=None)
_bypassed: ContextVar[bool] = ContextVar("redis_guard_bypassed", default=False)
_circuit_open_until = [0.0]  # time.monotonic() before which this process leaves Redis alone
_last_logged: dict[str, float] = {}


def redis_connection() -> Redis:
    """The default cache's Redis connection, guarded like every command on it (GuardedRetry below)."""
    return get_redis_connection("default")


def redis_key(*parts: object) -> str:
    """Our key for `parts`, in the deployment's namespace: redis_key("quota", "api_calls", 7, "202612") is
    "tollgate:quota:api_calls:7:202612" with no KEY_PREFIX set. Read at each call: tests change KEY_PREFIX."""
    prefix = settings.CACHES["default"].get("KEY_PREFIX") or "tollgate"
    return ":".join([prefix, *(str(part) for part in parts)])


def redis_available() -> bool:
    """False when Redis failed earlier in the current request, or in this process less than
    REDIS_CIRCUIT_OPEN_S ago: then a command would be skipped anyway."""
    state = _request.get()
    if state is not None and state.failed:
        return False
    return time.monotonic() >= _circuit_open_until[0]


def redis_failed(error: Exception) -> None:
    """Redis did not answer: skip it for the rest of the request and, in this process, for a few seconds."""
    state = _request.get()
    if state is not None:
        state.failed = True
    _circuit_open_until[0] = time.monotonic() + settings.REDIS_CIRCUIT_OPEN_S
    failure_log("redis_unavailable", error=type(error).__name__, circuit_open_s=settings.REDIS_CIRCUIT_OPEN_S)


@contextmanager
def redis_request() -> Iterator[None]:
    """Around one request: once a Redis command of it has failed, its later ones are skipped."""
    token = _request.set(_RequestState())
    try:
        yield
    finally:
        _request.reset(token)


@contextmanager
def redis_circuit_bypassed() -> Iterator[None]:
    """Commands inside are sent whatever the circuit and the request say (failures still open the circuit).
    For the rare writes that must not be dropped because of a blip, such as publishing a revoked API key."""
    token = _bypassed.set(True)
    try:
        yield
    finally:
        _bypassed.reset(token)


def failure_log(event: str, **fields: object) -> None:
    """Log `event` (a warning, key=value) at most once a minute per process: an outage must not write a line
    per request. Never pass secrets in `fields`."""
    now = time.monotonic()
    if now - _last_logged.get(event, -LOG_EVERY_S) < LOG_EVERY_S:
        return
    _last_logged[event] = now
    logger.warning(" ".join([event, *(f"{name}={value}" for name, value in fields.items())]))


def redis_guard_reset() -> None:
    """Close the circuit and forget what was logged (tests)."""
    _circuit_open_until[0] = 0.0
    _last_logged.clear()


class GuardedRetry(Retry):
    """redis-py's retry policy, used for every command and connect, with the guard above. A broken connection
    (a pooled socket Redis closed, say after a restart) is retried once at once, on a new connection: that
    costs nothing. A timeout is never retried: that would cost a second one."""

    def __init__(self) -> None:
        super().__init__(NoBackoff(), 1)

    def call_with_retry(self, do: Callable[[], T], fail: Callable[..., Any],
                        is_retryable: Callable[[Exception], bool] | None = None,
                        with_failure_count: bool = False) -> T:
        if not _bypassed.get() and not redis_available():
            raise RedisSkipped("Redis skipped: it failed moments ago")
        failures = 0
        while True:
            try:
                return do()
            except self._supported_errors as error:
                failures += 1
                if with_failure_count:
                    fail(error, failures)
                else:
                    fail(error)  # redis-py closes the connection here
                if isinstance(error, RedisSkipped):  # a reconnect inside was skipped: already reported
                    raise
                timed_out = isinstance(error, (RedisTimeoutError, TimeoutError))
                if timed_out or failures > self._retries or (is_retryable and not is_retryable(error)):
                    redis_failed(error)
                    raise


class GuardedConnectionPool(ConnectionPool):
    """django-redis's pool (CACHES OPTIONS CONNECTION_POOL_CLASS) with `GuardedRetry` on every connection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "retry": GuardedRetry()})
