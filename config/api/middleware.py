"""Request ids everywhere; for /api/: the body-size limit, and the error shape for responses DRF never saw
(unknown URLs, Django-level 404/405, CSRF failures, uncaught exceptions)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from config.api.errors import error_json_response, internal_error_response

REQUEST_ID_HEADER = "X-Request-Id"
CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
API_PREFIX = "/api/"


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


class RequestIdMiddleware:
    """Every response carries X-Request-Id: the client's own when it sent a sane one, else a new one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        sent = request.headers.get(REQUEST_ID_HEADER, "")
        request.request_id = sent if CLIENT_REQUEST_ID.match(sent) else f"req_{uuid.uuid4().hex}"
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id
        return response


class ApiErrorMiddleware:
    """Keeps every non-success /api/ response in the JSON error shape, and refuses oversized bodies early."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api_request(request):
            return self.get_response(request)
        limit = body_limit_for(request.path)
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_json_response(400, message="Content-Length is not a number.")
        if declared > limit:
            return error_json_response(413, details={"limit_bytes": limit, "received_bytes": declared})
        response = self.get_response(request)
        if response.status_code >= 400 and not _is_error_shape(response):
            return _replaced(response, error_json_response(response.status_code,
                                                           details=_details_for(request, response)))
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_api_request(request):
            return internal_error_response(request, exception)
        return None


CARRIED_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-Quota-Warning")


def _replaced(original: HttpResponse, replacement: HttpResponse) -> HttpResponse:
    """`replacement` in place of `original`: with its rate-limit headers, and with the work inner middleware
    left for when the response is closed (the API-call tracking), which would be lost with `original`."""
    for header in CARRIED_HEADERS:
        if header in original:
            replacement[header] = original[header]
    replacement._resource_closers.extend(original._resource_closers)
    original._resource_closers.clear()
    return replacement


def body_limit_for(path: str) -> int:
    """Bytes an API request body may have: the platform default, or a larger limit an endpoint declares."""
    for prefix, limit in settings.API_BODY_LIMITS.items():
        if path.startswith(prefix):
            return limit
    return settings.API_MAX_BODY_BYTES


def _is_error_shape(response: HttpResponse) -> bool:
    if "application/json" not in response.get("Content-Type", "") or getattr(response, "streaming", False):
        return False
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), dict) and "code" in body["error"]


def _details_for(request: HttpRequest, response: HttpResponse) -> dict:
    if response.status_code == 405:
        return {"allowed": [method.strip() for method in response.get("Allow", "").split(",") if method.strip()]}
    if response.status_code == 404:
        return {"path": request.path}
    return {}
