"""Cursor pagination for every list: ?cursor=<opaque>&limit=<1..100>, answering
{"data": [...], "has_more": bool, "next_cursor": str | null}."""

from __future__ import annotations

import binascii
import re
from base64 import b64decode
from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.response import Response

from config.api.errors import ApiError

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# Cursors we make are standard base64 of a short query string (offset, direction, position), well under 200
# characters; the OpenAPI schema publishes the same bounds and pattern, checked before decoding.
CURSOR_MIN_LENGTH = 4
CURSOR_MAX_LENGTH = 512
CURSOR_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
_CURSOR_RE = re.compile(CURSOR_PATTERN)


class ApiCursorPagination(CursorPagination):
    page_size = DEFAULT_LIMIT
    max_page_size = MAX_LIMIT
    page_size_query_param = "limit"
    cursor_query_param = "cursor"
    ordering = ("-created_at", "-id")

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            raise ApiError(status_code=400, code="invalid_request",
                           message=f"limit must be a whole number from 1 to {MAX_LIMIT}.",
                           details={"fields": {"limit": [f"Use 1 to {MAX_LIMIT}."]}})
        return int(raw)

    def decode_cursor(self, request) -> Cursor | None:
        """Like DRF's, but strict: DRF drops undecodable characters and treats garbage as the first page, and
        answers other bad cursors with 404. A cursor we did not make is a 400 here."""
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        if not CURSOR_MIN_LENGTH <= len(encoded) <= CURSOR_MAX_LENGTH or not _CURSOR_RE.fullmatch(encoded):
            raise _invalid_cursor()
        try:
            querystring = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
            tokens = parse_qs(querystring, keep_blank_values=True, strict_parsing=True)
            if not tokens or set(tokens) - {"o", "r", "p"}:
                raise ValueError("not a cursor")
            offset = int(tokens.get("o", ["0"])[0])
            reverse = bool(int(tokens.get("r", ["0"])[0]))
            position = tokens.get("p", [None])[0]
            if not 0 <= offset <= self.offset_cutoff:
                raise ValueError("offset out of range")
        except (ValueError, UnicodeError, binascii.Error) as error:
            raise _invalid_cursor() from error
        return Cursor(offset=offset, reverse=reverse, position=position)

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, DataError) as error:
            # A well-formed cursor whose position does not fit the ordering field (hand-made, not ours).
            raise _invalid_cursor() from error

    def get_paginated_response(self, data) -> Response:
        return Response({"data": data, "has_more": self.has_next, "next_cursor": self._next_cursor_value()})

    def _next_cursor_value(self) -> str | None:
        link = self.get_next_link()
        if not link:
            return None
        return parse_qs(urlsplit(link).query).get(self.cursor_query_param, [None])[0]

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["data", "has_more", "next_cursor"],
            "properties": {
                "data": schema,
                "has_more": {"type": "boolean"},
                "next_cursor": {"type": "string", "nullable": True,
                                "description": "Pass as ?cursor= to get the next page; null on the last page."},
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {"name": "cursor", "required": False, "in": "query",
             "description": "next_cursor of the previous page (opaque: only cursors this API made are accepted).",
             "schema": {"type": "string", "minLength": CURSOR_MIN_LENGTH, "maxLength": CURSOR_MAX_LENGTH,
                        "pattern": CURSOR_PATTERN}},
            {"name": "limit", "required": False, "in": "query", "description": f"Items per page, 1 to {MAX_LIMIT}.",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
        ]


def _invalid_cursor() -> ApiError:
    return ApiError(status_code=400, code="invalid_request", message="The cursor is not valid.",
                    details={"fields": {"cursor": ["Use the next_cursor of a previous page."]}})
