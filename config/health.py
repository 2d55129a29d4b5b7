"""/healthz: whether the database, the cache and the Celery broker answer. For load balancers and uptime checks.

Answered by a middleware placed before tenant routing, because routing itself needs the database: with the
database down, /healthz must still answer 503 rather than fail.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers

from config.redis_guard import redis_circuit_bypassed

logger = logging.getLogger(__name__)


def database_check() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def cache_check() -> None:
    # A real probe: not skipped because this process saw Redis fail a moment ago (the request-path circuit).
    with redis_circuit_bypassed():
        cache.set("healthz", "ok", timeout=5)
        if cache.get("healthz") != "ok":
            raise RuntimeError("cache did not return the value just written")


def broker_check() -> None:
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as broker:
        broker.ensure_connection(max_retries=1, timeout=2)


CHECKS: dict[str, Callable[[], None]] = {"database": database_check, "cache": cache_check, "broker": broker_check}


HEALTHZ_PATH = "/healthz"


class HealthCheckMiddleware:
    """Answers GET /healthz on the public host before anything touches the database."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == HEALTHZ_PATH and request.method in ("GET", "HEAD") and _is_public_host(request):
            return healthz()
        return self.get_response(request)


def _is_public_host(request: HttpRequest) -> bool:
    return request.META.get("HTTP_HOST", "").split(":")[0] == settings.BASE_DOMAIN


def healthz() -> JsonResponse:
    components = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:  # any failure means "down"; the reason goes to the log, not the response
            logger.warning("healthz_failed component=%s error=%s", name, type(error).__name__)
            components[name] = "down"
        else:
            components[name] = "ok"
    failing = [name for name, state in components.items() if state != "ok"]
    body = {"status": "ok" if not failing else "down", "components": components, "failing": failing}
    response = JsonResponse(body, status=200 if not failing else 503)
    add_never_cache_headers(response)
    return response
