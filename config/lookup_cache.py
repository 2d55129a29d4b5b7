"""The one per-process cache: the rows every request looks up (the tenant of a host name, the API key of a
secret, the tenant's entitlements, the active model prices), kept exact by one deployment-wide generation
counter in Redis, so the hot path queries neither PostgreSQL nor Redis for them, bar one read of the counter per
request. There is no other cache of rows in a process, and no time-to-live to wait for after a change.

Every entry remembers the generation it was loaded under; a lookup trusts it only while the counter still has
that value. Whoever changes such a row calls `lookup_forget()` (the models' signals do), which increments the
counter at once and again when the transaction commits: every process then reloads on its next lookup, and a
request that loaded the old row just before the commit stored it under a generation that is already gone.
Changes to these rows are rare (a key created or revoked, a tenant suspended, a plan or a price edited), so
reloads are too. `lookup_forget()` without keys (a plan edited: every tenant on it is affected) only moves the
counter. The request that made the change reads the database for the rest of it, since its own read of the
counter predates the change (another thread may have cached the old row under it meanwhile).

The routing middleware reads the counter once per request (`lookup_request`); lookups outside a request read it
themselves. A missing counter (a new or emptied Redis) starts at a random value, so entries cached before can
never match it by chance; entries are also reloaded after ENTRY_MAX_AGE_S whatever the counter says, in case a
change could not reach Redis. With Redis unreachable every lookup reads the database, once per request (logged
at most once a minute): the API keeps serving and nothing stale is served. The cache holds at most MAX_ENTRIES: beyond, the
entry loaded longest ago makes room.

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

from django.db import transaction

from config.redis_guard import failure_log, redis_circuit_bypassed, redis_connection, redis_key, redis_request

T = TypeVar("T")

# Entries kept per process (host names, keys and tenants in use, not all that exist); the oldest loaded goes
# first when full, so a burst of one-off host names cannot flush the tenants in steady use all at once.
MAX_ENTRIES = 20_000
ENTRY_MAX_AGE_S = 60.0
# How long a value may lag during a Redis outage, for the callers that allow it (lookup_cached's stale_ok_s): what
# entitlements and model prices lagged by at most before they joined this cache.
OUTAGE_LAG_OK_S = 10.0
_entries: dict[str, tuple[int, float, object]] = {}  # key -> (generation, loaded at (monotonic), value)
# The generation read at the start of the current request; None outside one. Below zero the request reads the
# database: Redis failed (UNREADABLE), or the request itself changed a cached row (CHANGED).
UNREADABLE = -1
CHANGED = -2
_request_generation: ContextVar[int | None] = ContextVar("lookup_request_generation", default=None)
# What a request that could not read the generation has loaded: each row once per request, not once per lookup.
_request_loaded: ContextVar[dict[str, object] | None] = ContextVar("lookup_request_loaded", default=None)


def lookup_key(*parts: object) -> str:
    """The cache key of a lookup, e.g. lookup_key("entitlements", tenant.pk); also its namespace in Redis."""
    return redis_key("lookup", *parts)


def _generation_key() -> str:
    return lookup_key("generation")


@contextmanager
def lookup_request() -> Iterator[None]:
    """Around one request: its lookups share one read of the generation counter (one attempt, if Redis fails),
    and its Redis commands are skipped once one has failed."""
    with redis_request():
        generation = _generation_read()
        token = _request_generation.set(UNREADABLE if generation is None else generation)
        loaded_token = _request_loaded.set({} if generation is None else None)
        try:
            yield
        finally:
            _request_loaded.reset(loaded_token)
            _request_generation.reset(token)


def lookup_cached(key: str, load: Callable[[], T | None], *, stale_ok_s: float = 0.0) -> T | None:
    """A copy of the cached value of `key` when it is current, else `load()` (cached when it is not None).

    `stale_ok_s`: with Redis unreachable (no way to know what is current), a value loaded less than this long ago
    is served as it is, and one loaded then is kept that long. Only for rows where a few seconds' lag is harmless
    (a plan's limits, model prices), never for what guards access (tenants' status, API keys): those are read
    from the database on every request while Redis is down."""
    generation = _request_generation.get()
    if generation is None:
        generation = _generation_read()
    now = time.monotonic()
    if (generation is None or generation == UNREADABLE) and stale_ok_s > 0:
        return _lookup_while_unreadable(key, load, stale_ok_s=stale_ok_s, now=now)
    if generation is None or generation < 0:  # no way to know what is current (see UNREADABLE, CHANGED)
        return _load_in_request(key, load) if generation == UNREADABLE else load()
    entry = _entries.get(key)
    if entry is not None and entry[0] == generation and now - entry[1] < ENTRY_MAX_AGE_S:
        # A copy: callers may change their instance (Django sets tenant.domain_url) without touching others'.
        return copy.copy(entry[2])
    value = load()
    if value is not None:
        _store(key, (generation, now, copy.copy(value)))
    return value


def lookup_forget(*keys: str) -> None:
    """Make every process read the database on its next lookup: now, and again once the current transaction
    commits (a reader between the two may have loaded the row as it was before the change). `keys` are dropped
    from this process's cache at once; without keys, every entry is stale (in every process, this one too)."""
    for key in keys:
        _entries.pop(key, None)
    if _request_generation.get() is not None:
        _request_generation.set(CHANGED)
    _generation_bump()
    transaction.on_commit(_generation_bump)


def lookup_clear() -> None:
    """Drop this process's cached lookups (tests)."""
    _entries.clear()


def _lookup_while_unreadable(key: str, load: Callable[[], T | None], *, stale_ok_s: float, now: float) -> T | None:
    entry = _entries.get(key)
    if entry is not None and now - entry[1] < stale_ok_s:
        return copy.copy(entry[2])
    value = load()
    if value is not None:
        # Stored under UNREADABLE, which no generation read from Redis ever matches: once Redis answers again,
        # the next lookup reloads it.
        _store(key, (UNREADABLE, now, copy.copy(value)))
    return value


def _load_in_request(key: str, load: Callable[[], T | None]) -> T | None:
    loaded = _request_loaded.get()
    if loaded is None:
        return load()
    if key in loaded:
        return copy.copy(loaded[key])
    value = load()
    if value is not None:
        loaded[key] = copy.copy(value)
    return value


def _store(key: str, entry: tuple[int, float, object]) -> None:
    # Popped first, so that a reloaded entry counts as the newest (a dict keeps insertion order).
    if _entries.pop(key, None) is None and len(_entries) >= MAX_ENTRIES:
        try:
            del _entries[next(iter(_entries))]
        except (RuntimeError, StopIteration, KeyError):  # another thread changed the cache meanwhile
            pass
    _entries[key] = entry


def _generation_read() -> int | None:
    try:
        redis = redis_connection()
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
            redis_connection().incr(_generation_key())
    except Exception as error:
        # Other processes keep their entries at most ENTRY_MAX_AGE_S more; this one drops its own now.
        _entries.clear()
        failure_log("lookup_generation_not_published", error=type(error).__name__)
