"""A buffer in Redis that a flush drains without losing or doubling a record: a chunk is moved from the buffer onto
a processing list leased in a registry in one step (a record is always in exactly one of them), stored, then
dropped; a processing list whose lease ran out (its flush died) is adopted by the next flush. Used by the API-call
tracking (metering.limits.tracking) and the referral clicks (affiliates.clicks)."""

from __future__ import annotations

import time

# Moves up to ARGV[1] records from the head of the buffer (KEYS[1]) onto a new processing list (KEYS[2]) leased
# until ARGV[2] in the registry (KEYS[3]), in one step.
_CHUNK_TAKE = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then
  redis.call('LTRIM', KEYS[1], #items, -1)
  redis.call('RPUSH', KEYS[2], unpack(items))
  redis.call('ZADD', KEYS[3], ARGV[2], KEYS[2])
end
return items
"""
# Adopts the processing list KEYS[1] if its lease (in the registry KEYS[3]) ran out before ARGV[1]: renames it
# to KEYS[2], leased until ARGV[2]. Two flushes may find the same orphan; only one adopts it.
_ORPHAN_ADOPT = """
local lease = redis.call('ZSCORE', KEYS[3], KEYS[1])
if not lease or tonumber(lease) > tonumber(ARGV[1]) then
  return {}
end
redis.call('ZREM', KEYS[3], KEYS[1])
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {}
end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('ZADD', KEYS[3], ARGV[2], KEYS[2])
return redis.call('LRANGE', KEYS[2], 0, -1)
"""


def chunk_take(redis, *, buffer_key: str, processing_key: str, registry_key: str, chunk: int,
               lease_s: float) -> list[bytes]:
    """Up to `chunk` records off the buffer, now on `processing_key`, leased for `lease_s`."""
    return redis.eval(_CHUNK_TAKE, 3, buffer_key, processing_key, registry_key, chunk, time.time() + lease_s)


def orphan_adopt(redis, *, processing_key: str, registry_key: str, lease_s: float) -> list[bytes]:
    """The records of one processing list whose lease ran out, now on `processing_key`; [] when there is none."""
    now = time.time()
    orphans = redis.zrangebyscore(registry_key, "-inf", now, start=0, num=1)
    if not orphans:
        return []
    return redis.eval(_ORPHAN_ADOPT, 3, orphans[0], processing_key, registry_key, now, now + lease_s)
