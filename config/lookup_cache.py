"""Per-process cache of the rows every request looks up (the tenant of a host name, the API key of a secret),
kept exact by one deployment-wide generation counter in Redis, so the hot path queries neither PostgreSQL nor
Redis for them, bar one read of the counter per request.

Every entry remembers the generation it was loaded under; a lookup trusts it only while the counter still has
that value. Whoever changes such a row calls `lookup_forget()` (the models' signals do), which increments the
counter at once and again when the transaction commits: every process then reloads on its next lookup, and a
request that loaded the old row just before the commit stored it under a generation that is already gone.
Changes to these rows are rare (a key created or revoked, a tenant suspended), so reloads are too.

The routing middleware reads the counter once per request (`lookup_request`); lookups outside a request read it
themselves. A missing counter (a new or emptied Redis) starts at a random value, so entries cached before can
never match it by chance; entries are also reloaded after ENTRY_MAX_AGE_S whatever the counter says, in case a
change could not reach Redis. With Redis unreachable every lookup reads the database (logged at most once a
minute): the API keeps serving and nothing stale is served.

`lookup_request` is also the request's Redis scope (config.redis_guard): once a command of the request has
failed, the rest are skipped. Publishing a change is the exception: it is always tried, even while the circuit
is open, so that a blip in one process cannot leave a revoked key or a suspended tenant cached in the others.
"""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from django.conf import settings
from django.db import transaction
from django_redis import get_redis_connection

from config.redis_guard import failure_log, redis_circuit_bypassed, redis_request

T = TypeVar("T")

# Entries kept per process before the cache starts over (host names and keys in use, not all that exist).
MAX_ENTRIES = 20_000
ENTRY_MAX_AGE_S = 60.0
_entries: dict[str, tuple[int, float, object]] = {}  # key -> (generation, loaded at (monotonic), value)
# The generation read at the start of the current request (UNREADABLE when Redis failed); None outside one.
UNREADABLE = -1
_request_generation: ContextVar[int | None] = ContextVar("lookup_request_generation", default=None)


def lookup_key(*parts: object) -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX") or "tollgate"
    return ":".join([prefix, "lookup", *(str(part) for part in parts)])


def _generation_key() -> str:
    return lookup_key("generation")


@contextmanager
def lookup_request() -> Iterator[None]:
    """Around one request: its lookups share one read of the generation counter (one attempt, if Redis fails),
    and its Redis commands are skipped once one has failed."""
    with redis_request():
        generation = _generation_read()
        token = _request_generation.set(UNREADABLE if generation is None else generation)
        try:
            yield
        finally:
            _request_generation.reset(token)


def lookup_cached(key: str, load: Callable[[], T | None]) -> T | None:
    """A copy of the cached value of `key` when it is current, else `load()` (cached when it is not None)."""
    generation = _request_generation.get()
    if generation is None:
        generation = _generation_read()
    if generation is None or generation == UNREADABLE:  # Redis unreachable: no way to know what is current
        return load()
    entry = _entries.get(key)
    now = time.monotonic()
    if entry is not None and entry[0] == generation and now - entry[1] < ENTRY_MAX_AGE_S:
        # A copy: callers may change their instance (Django sets tenant.domain_url) without touching others'.
        return copy.copy(entry[2])
    value = load()
    if value is not None:
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
        _entries[key] = (generation, now, copy.copy(value))
    return value


def lookup_forget(*keys: str) -> None:
    """Make every process read the database on its next lookup: now, and again once the current transaction
    commits (a reader between the two may have loaded the row as it was before the change). `keys` are dropped
    from this process's cache at once."""
    for key in keys:
        _entries.pop(key, None)
    _generation_bump()
    transaction.on_commit(_generation_bump)


def lookup_clear() -> None:
    """Drop this process's cached lookups (tests)."""
    _entries.clear()


def _generation_read() -> int | None:
    try:
        redis = get_redis_connection("default")
        raw = redis.get(_generation_key())
        if raw is None:
            redis.set(_generation_key(), secrets.randbits(62), nx=True)
            raw = redis.get(_generation_key())
    except Exception as error:
        failure_log("lookup_cache_unavailable", error=type(error).__name__)
        return None
    return int(raw)


def _generation_bump() -> None:
    try:
        with redis_circuit_bypassed():
            get_redis_connection("default").incr(_generation_key())
    except Exception as error:
        # Other processes keep their entries at most ENTRY_MAX_AGE_S more; this one drops its own now.
        _entries.clear()
        failure_log("lookup_generation_not_published", error=type(error).__name__)
