"""/healthz: whether the database, the cache and the Celery broker answer. For load balancers and uptime checks."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def database_check() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def cache_check() -> None:
    cache.set("healthz", "ok", timeout=5)
    if cache.get("healthz") != "ok":
        raise RuntimeError("cache did not return the value just written")


def broker_check() -> None:
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as broker:
        broker.ensure_connection(max_retries=1, timeout=2)


CHECKS: dict[str, Callable[[], None]] = {"database": database_check, "cache": cache_check, "broker": broker_check}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
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
    return JsonResponse(body, status=200 if not failing else 503)
