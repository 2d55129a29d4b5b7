"""Monthly quotas on what the platform itself meters on the request path (today: billable API calls).

The month's count lives in a Redis counter per tenant, incremented by the call tracking with every billable
call and seeded from the rollups when missing (after a Redis restart, or at the first call of a month), so a
check costs one GET and no database query. A hard quota refuses further calls with 429 quota_exceeded until
the month ends; a soft one answers with an X-Quota-Warning header from 80 % on. Crossing 80 % and 100 % sends
the owners one email each per month (metering.tasks.usage_alert_send; UsageAlert's unique constraint makes it
once even if two processes cross together).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from billing.selectors import Quota, entitlements_for
from config.errors import DomainError
from config.redis_guard import redis_connection, redis_key
from metering.usage.selectors import active_meters, month_bounds, usage_for_period, usage_percent, usage_percent_whole
from tenants.models import Tenant

API_CALLS = "api_calls"
ALERT_THRESHOLDS = (80, 100)
COUNTER_TTL_S = 40 * 24 * 3600


@dataclass(frozen=True)
class QuotaState:
    meter_code: str
    used: int
    limit: int
    hard: bool
    period_end: datetime

    @property
    def percent(self) -> int:
        return usage_percent_whole(usage_percent(used=self.used, limit=self.limit))

    @property
    def exhausted(self) -> bool:
        return self.used >= self.limit


def counter_key(tenant: Tenant, meter_code: str, period_start: datetime) -> str:
    return redis_key("quota", meter_code, tenant.pk, f"{period_start:%Y%m}")


def api_calls_quota_state(tenant: Tenant, *, now: datetime | None = None) -> QuotaState | None:
    """Where the tenant stands against its monthly API-call quota, or None when its plan has none."""
    quota = entitlements_for(tenant=tenant).quota_for(API_CALLS)
    if quota is None:
        return None
    start, end = month_bounds(now or timezone.now())
    redis = redis_connection()
    key = counter_key(tenant, API_CALLS, start)
    raw = redis.get(key)
    if raw is None:
        meter = active_meters().get(API_CALLS)
        used = int(usage_for_period(tenant=tenant, meter=meter, start=start, end=end)) if meter else 0
        # NX: a counter another process created (and maybe incremented) meanwhile wins over this seed.
        redis.set(key, used, nx=True, ex=COUNTER_TTL_S)
        raw = redis.get(key)
    return QuotaState(meter_code=API_CALLS, used=int(raw), limit=int(quota.monthly_limit), hard=quota.hard,
                      period_end=end)


def api_call_count_queue(tenant: Tenant, pipeline, *, now: datetime | None = None) -> Quota | None:
    """Queue the increment of this month's API-call counter on the caller's Redis pipeline (so counting costs
    no round trip of its own). Returns the quota to pass to `threshold_crossed` with the INCR's result, or None
    when the plan has no API-call quota (nothing queued)."""
    quota = entitlements_for(tenant=tenant).quota_for(API_CALLS)
    if quota is None:
        return None
    start, _ = month_bounds(now or timezone.now())
    key = counter_key(tenant, API_CALLS, start)
    pipeline.incr(key)
    pipeline.expire(key, COUNTER_TTL_S)
    return quota


def threshold_crossed(quota: Quota, *, used: int) -> int | None:
    """The alert threshold (80 or 100 %) that the call bringing the count to `used` crossed, if any. INCR is
    atomic, so exactly one call sees each threshold value."""
    limit = int(quota.monthly_limit)
    for threshold in ALERT_THRESHOLDS:
        if limit and used == math.ceil(limit * threshold / 100):
            return threshold
    return None


class QuotaExceeded(DomainError):
    code = "quota_exceeded"
    status = 429


def quota_refusal(state: QuotaState) -> QuotaExceeded:
    """The error a hard quota used up raises: retry when the period renews."""
    retry_after = max(1, int((state.period_end - timezone.now()).total_seconds()))
    return QuotaExceeded(
        f"The monthly quota of {state.limit} API calls is used up; it renews on "
        f"{state.period_end:%Y-%m-%d} (UTC). Upgrade the plan for more.",
        details={"meter": state.meter_code, "limit": state.limit, "used": state.used,
                 "renews_at": state.period_end.isoformat()},
        retry_after_s=retry_after,
    )


def quota_warning(state: QuotaState) -> str | None:
    if state.percent < ALERT_THRESHOLDS[0]:
        return None
    return f"{state.meter_code}: {state.percent}% of {state.limit} used this month"
