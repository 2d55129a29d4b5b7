"""Per-plan request rate limits on the API: per key and per tenant, counted in Redis by django-ratelimit (a
callable rate read from the plan, a callable key that always holds the tenant), so they hold across every web
process; and the monthly API-call quota (metering.limits.quotas), checked first. Every /api/v1/ answer carries
X-RateLimit-Limit, -Remaining and -Reset (of the tighter limit); a refusal is 429 rate_limited with
Retry-After.

If Redis cannot be reached the API keeps serving: limits fail open (settings.RATE_LIMITS_FAIL_OPEN), and the
failure is logged at most once a minute per process. Once Redis has failed in a request (or in the process,
moments ago: config.redis_guard), the checks do not try it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_ratelimit.core import get_usage
from rest_framework.throttling import BaseThrottle

from billing.selectors import entitlements_for
from config.redis_guard import failure_log, redis_available
from metering.limits.quotas import api_calls_quota_state, quota_refusal, quota_warning
from tenants.models import ApiKey


@dataclass(frozen=True)
class LimitState:
    limit: int
    remaining: int
    reset_s: int
    exceeded: bool


TENANT_LIMIT = "api:tenant"
KEY_LIMIT = "api:key"


def plan_rate(group: str, request: HttpRequest) -> str | None:
    """django-ratelimit's callable rate: the tenant's plan's requests per minute for this limit (None: none)."""
    entitlements = entitlements_for(tenant=request.tenant)
    per_minute = (entitlements.api_requests_per_minute_per_key if group == KEY_LIMIT
                  else entitlements.api_requests_per_minute_per_tenant)
    return f"{per_minute}/m" if per_minute else None


def limit_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit's callable key: the tenant's id, plus the API key's id for the per-key limit, so no two
    tenants ever share a counter. (DRF copies the authenticated key onto the Django request as `auth`.)"""
    if group == KEY_LIMIT:
        return f"{request.tenant.pk}:{request.auth.pk}"
    return str(request.tenant.pk)


class PlanRateLimit(BaseThrottle):
    """DRF throttle: the plan's requests per minute per API key and per tenant."""

    def allow_request(self, request, view) -> bool:
        tenant = getattr(request, "tenant", None)
        if not settings.RATE_LIMITS_ENABLED or tenant is None or tenant.is_public:
            return True
        if not getattr(request.user, "is_authenticated", False):
            return True
        self._quota_check(request)
        groups = [TENANT_LIMIT, KEY_LIMIT] if isinstance(request.auth, ApiKey) else [TENANT_LIMIT]
        states = [state for group in groups for state in [_count(request._request, group=group)] if state]
        if not states:
            return True
        tightest = min(states, key=lambda state: (not state.exceeded, state.remaining))
        request._request.rate_limit = tightest
        self._wait = tightest.reset_s
        return not tightest.exceeded

    def _quota_check(self, request) -> None:
        if not redis_available():
            _failure_log("RedisSkipped")
            return
        try:
            state = api_calls_quota_state(request.tenant)
        except Exception as error:  # Redis or the rollups unreachable: quotas fail open, like rate limits
            _failure_log(type(error).__name__)
            return
        if state is None:
            return
        if state.hard and state.exhausted:
            raise quota_refusal(state)
        request._request.quota_warning = quota_warning(state)

    def wait(self) -> float | None:
        return max(1, getattr(self, "_wait", 1))


def _count(request: HttpRequest, *, group: str) -> LimitState | None:
    """Count this request against one limit (None: the plan has no such limit, or Redis failed open)."""
    rate = plan_rate(group, request)
    if rate is None:
        return None
    usage = None
    if redis_available():
        try:
            usage = get_usage(request, group=group, key=limit_key, rate=plan_rate, increment=True)
        except Exception as error:  # Redis unreachable: serve, and say so once a minute
            _failure_log(type(error).__name__)
    # django-ratelimit answers time_left -1 when the cache failed (the default cache ignores its errors).
    if usage is None or usage["time_left"] < 0:
        _failure_log("counter_unavailable")
        per_minute = int(rate.split("/")[0])
        return None if settings.RATE_LIMITS_FAIL_OPEN else LimitState(per_minute, 0, 60, True)
    return LimitState(limit=usage["limit"], remaining=max(0, usage["limit"] - usage["count"]),
                      reset_s=max(0, usage["time_left"]), exceeded=usage["should_limit"])


def _failure_log(error: str) -> None:
    failure_log("rate_limits_unavailable", error=error, fail_open=settings.RATE_LIMITS_FAIL_OPEN)


class RateLimitHeadersMiddleware:
    """Adds the X-RateLimit-* headers the throttle computed (on success and on refusal alike)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        warning = getattr(request, "quota_warning", None)
        if warning:
            response["X-Quota-Warning"] = warning
        state: LimitState | None = getattr(request, "rate_limit", None)
        if state is not None:
            response["X-RateLimit-Limit"] = str(state.limit)
            response["X-RateLimit-Remaining"] = str(state.remaining)
            response["X-RateLimit-Reset"] = str(state.reset_s)
        return response
