"""The one error shape of the API and the one place that maps exceptions to it.

Every non-success response under /api/ is {"error": {"code", "message", "details"}} with the right status, and
the AI stream's error events carry the same code and message. Apps raise `config.errors.DomainError`
subclasses (or ApiError from API code) and never map errors themselves. Imports no app of ours.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from django_ratelimit.exceptions import Ratelimited
from rest_framework import exceptions, status
from rest_framework.response import Response

from config.errors import DomainError

logger = logging.getLogger(__name__)

# The code each HTTP status gets when nothing more specific is known.
DEFAULT_CODES = {
    400: "invalid_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
    429: "rate_limited", 500: "internal_error", 503: "service_unavailable",
}
DEFAULT_MESSAGES = {
    400: "The request is not valid.", 401: "Authentication is required.",
    403: "You are not allowed to do this.", 404: "Nothing was found at this address.",
    405: "This method is not allowed here.", 409: "The request conflicts with the current state.",
    413: "The request body is too large.", 415: "Send the body as application/json.",
    429: "Too many requests. Slow down and retry later.", 500: "Something went wrong on our side.",
    503: "The service is temporarily unavailable.",
}


class ApiError(exceptions.APIException):
    """Raise from API code (or map a domain error to) an error with a stable code, a message and details."""

    def __init__(self, *, status_code: int, code: str, message: str, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}


def error_body(*, code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_json_response(status_code: int, *, code: str | None = None, message: str | None = None,
                        details: dict[str, Any] | None = None) -> JsonResponse:
    return JsonResponse(
        error_body(code=code or DEFAULT_CODES.get(status_code, "error"),
                   message=message or DEFAULT_MESSAGES.get(status_code, "The request failed."), details=details),
        status=status_code,
    )


def api_error_from(exc: Exception) -> ApiError | None:
    """Translate any exception we know into an ApiError; None for the unexpected (a real 500)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, DomainError):
        details = {"field": exc.field} if exc.field else {}
        details.update(exc.details)
        headers = {} if exc.retry_after_s is None else {"Retry-After": str(exc.retry_after_s)}
        return ApiError(status_code=exc.status, code=exc.code, message=exc.message, details=details,
                        headers=headers)
    if isinstance(exc, exceptions.ValidationError):
        return ApiError(status_code=400, code="invalid_request", message="Some fields are not valid.",
                        details={"fields": _as_plain(exc.detail)})
    if isinstance(exc, exceptions.ParseError):
        return ApiError(status_code=400, code="invalid_request",
                        message=f"The body could not be parsed: {exc.detail}")
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return ApiError(status_code=415, code="unsupported_media_type",
                        message="Send the body as application/json.", details={"received": exc.detail})
    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        return ApiError(status_code=429, code="rate_limited", message=DEFAULT_MESSAGES[429],
                        details={"retry_after_s": wait}, headers={"Retry-After": str(wait)})
    if isinstance(exc, Ratelimited):
        return ApiError(status_code=429, code="rate_limited", message=DEFAULT_MESSAGES[429],
                        headers={"Retry-After": "60"})
    if isinstance(exc, RequestDataTooBig):
        return ApiError(status_code=413, code="payload_too_large", message=DEFAULT_MESSAGES[413])
    if isinstance(exc, (Http404, exceptions.NotFound)):
        return ApiError(status_code=404, code="not_found", message=DEFAULT_MESSAGES[404])
    if isinstance(exc, exceptions.MethodNotAllowed):
        return ApiError(status_code=405, code="method_not_allowed", message=str(exc.detail))
    if isinstance(exc, exceptions.APIException):
        code = _first_code(exc) or DEFAULT_CODES.get(exc.status_code, "error")
        if code in {"not_authenticated", "authentication_failed"}:
            code = "unauthenticated"
        if code == "permission_denied":
            code = "forbidden"
        return ApiError(status_code=exc.status_code, code=code, message=str(exc.detail))
    if isinstance(exc, DjangoPermissionDenied):
        return ApiError(status_code=403, code="forbidden", message=str(exc) or DEFAULT_MESSAGES[403])
    return None


def error_answer(exc: Exception) -> tuple[int, dict[str, Any], dict[str, str]] | None:
    """(status, body, headers) the API answers for `exc`; None for the unexpected (a real 500). The DRF
    handler and the AI stream's error events are both built from it."""
    error = api_error_from(exc)
    if error is None:
        return None
    headers = dict(error.headers)
    if error.status_code == status.HTTP_401_UNAUTHORIZED:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="api"')
    return error.status_code, error_body(code=error.code, message=error.message, details=error.details), headers


def stream_error_event(error: DomainError) -> dict[str, Any]:
    """The data of an `event: error` in a stream whose 200 is already sent: the code and message the API
    would answer with. Details stay out, as stream error events have always carried these two only."""
    _, body, _ = error_answer(error)
    return {"type": "error", "error": {"code": body["error"]["code"], "message": body["error"]["message"]}}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's EXCEPTION_HANDLER. Unknown exceptions return None and reach ApiErrorMiddleware as a 500."""
    # Imported here: rest_framework.views imports the authentication classes, which import this module.
    from rest_framework.views import set_rollback

    answer = error_answer(exc)
    if answer is None:
        return None
    set_rollback()
    status_code, body, headers = answer
    return Response(body, status=status_code, headers=headers)


def internal_error_response(request: HttpRequest, exc: Exception) -> JsonResponse:
    request_id = getattr(request, "request_id", "")
    logger.error("api_internal_error request_id=%s path=%s", request_id, request.path, exc_info=exc)
    return error_json_response(500, details={"request_id": request_id})


def _first_code(exc: exceptions.APIException) -> str | None:
    codes = exc.get_codes()
    while isinstance(codes, (list, dict)):
        if not codes:
            return None
        codes = codes[0] if isinstance(codes, list) else next(iter(codes.values()))
    return codes


def _as_plain(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _as_plain(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_as_plain(item) for item in detail]
    return str(detail)
