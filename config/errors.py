"""The one base of every domain error. Services raise subclasses; `config/api/errors.py` alone turns them into
HTTP answers, so a new app adds error classes, never a mapper.

Imports nothing of ours: every app and the API kit may import it.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal a caller can act on. `code` is the stable machine-readable name, `status` the HTTP status the
    API answers with, `field` the input at fault (if one is), `details` what else the caller may need, and
    `retry_after_s` when it makes sense to retry (the API sends it as Retry-After)."""

    code = "error"
    status = 400
    retry_after_s: int | None = None

    def __init__(self, message: str, *, field: str | None = None, details: dict[str, Any] | None = None,
                 retry_after_s: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}
        if retry_after_s is not None:
            self.retry_after_s = retry_after_s
