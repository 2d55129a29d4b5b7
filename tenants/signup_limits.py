"""The per-IP signup limit, shared by every page that creates a workspace (the public signup, a reseller's
signup on its own domain): one count per address, whichever page it signs up on."""

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage


def signup_refusal(request: HttpRequest) -> str | None:
    """Why this signup is refused by the per-IP limit, or None. The limit lives in Redis: when it cannot be
    counted, signup is refused (never left unthrottled), and the visitor is told the truth about why."""
    usage = get_usage(request, group="signup", key="ip", rate=settings.SIGNUP_RATE_LIMIT, method="POST",
                      increment=True)
    if usage is None or not usage["should_limit"]:
        return None
    if usage["time_left"] < 0:  # django-ratelimit's answer when the cache did not count
        return "Signups are paused for a moment. Please try again in a few minutes."
    return "Too many signups from your network. Please try again in an hour."


def client_ip(request: HttpRequest) -> str:
    # Where the signup's rate limit reads it (RATELIMIT_IP_META_KEY behind a proxy: its first address).
    return request.META.get(settings.RATELIMIT_IP_META_KEY or "REMOTE_ADDR", "").split(",")[0].strip()
