"""Read-through cache in Redis for the rows every API request looks up (the tenant of a host name, the API key
of a secret), so the hot path does not query PostgreSQL for them.

Correctness comes from invalidation, not from a short lifetime: whoever changes such a row calls
`lookup_forget(key)` (the models' signals do), which writes a tombstone at once and again when the transaction
commits. Readers never overwrite a tombstone (they only `SET NX`), so a request that read the old row just
before the commit cannot put it back into the cache afterwards. A tombstone lives TOMBSTONE_TTL_S; while it
is there, readers go to the database. Entries expire after LOOKUP_TTL_S in any case.

Keys are independent of the connection's schema (unlike the default cache's keys), so a change made inside a
tenant's schema forgets the same key the public-schema lookup wrote. With Redis unreachable every lookup reads
the database (logged at most once a minute): the API keeps serving.
"""

from __future__ import annotations

import logging
import pickle
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import transaction
from django_redis import get_redis_connection

logger = logging.getLogger(__name__)

T = TypeVar("T")

LOOKUP_TTL_S = 60
TOMBSTONE_TTL_S = 2
TOMBSTONE = b"\x00forgotten"
LOG_EVERY_S = 60.0
_last_failure_logged = [0.0]


def lookup_key(*parts: object) -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX") or "tollgate"
    return ":".join([prefix, "lookup", *(str(part) for part in parts)])


def lookup_cached(key: str, load: Callable[[], T | None]) -> T | None:
    """The cached value of `key`, or `load()` (cached when it is not None and no tombstone is in the way)."""
    try:
        redis = get_redis_connection("default")
        raw = redis.get(key)
    except Exception as error:
        _failure_log(error)
        return load()
    if raw is not None and raw != TOMBSTONE:
        return pickle.loads(raw)
    value = load()
    if value is not None and raw is None:
        try:
            redis.set(key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), ex=LOOKUP_TTL_S, nx=True)
        except Exception as error:
            _failure_log(error)
    return value


def lookup_forget(*keys: str) -> None:
    """Make the next lookups of `keys` read the database: now, and again once the current transaction commits
    (a reader between the two may have cached the row as it was before the change)."""
    if not keys:
        return
    _tombstones_write(keys)
    transaction.on_commit(lambda: _tombstones_write(keys))


def lookup_clear() -> int:
    """Drop every cached lookup of this deployment (tests; ops after restoring a database)."""
    try:
        redis = get_redis_connection("default")
        keys = list(redis.scan_iter(match=lookup_key("*"), count=1000))
        return redis.delete(*keys) if keys else 0
    except Exception as error:
        _failure_log(error)
        return 0


def _tombstones_write(keys: tuple[str, ...]) -> None:
    try:
        pipeline = get_redis_connection("default").pipeline(transaction=False)
        for key in keys:
            pipeline.set(key, TOMBSTONE, ex=TOMBSTONE_TTL_S)
        pipeline.execute()
    except Exception as error:
        # Redis down: nothing can be read from it either; entries written before expire within LOOKUP_TTL_S.
        _failure_log(error)


def _failure_log(error: Exception) -> None:
    now = time.monotonic()
    if now - _last_failure_logged[0] >= LOG_EVERY_S:
        _last_failure_logged[0] = now
        logger.warning("lookup_cache_unavailable error=%s", type(error).__name__)
