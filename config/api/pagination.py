"""Cursor pagination for every list: ?cursor=<opaque>&limit=<1..100>, answering
{"data": [...], "has_more": bool, "next_cursor": str | null}."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from config.api.errors import ApiError

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


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

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except Exception as error:  # DRF answers a bad cursor with 404; it is a bad request
            raise ApiError(status_code=400, code="invalid_request", message="The cursor is not valid.",
                           details={"fields": {"cursor": ["Use the next_cursor of a previous page."]}}) from error

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
            {"name": "cursor", "required": False, "in": "query", "description": "next_cursor of the previous page.",
             "schema": {"type": "string"}},
            {"name": "limit", "required": False, "in": "query", "description": f"Items per page, 1 to {MAX_LIMIT}.",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
        ]
