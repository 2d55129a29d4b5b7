"""Admin building blocks every app's ops admin may use; imports nothing of ours."""

from __future__ import annotations

from django.db.models import Model
from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """Ops may list and open rows but never add, change or delete one: for records only services write (ledgers,
    audit trails). Works on a ModelAdmin and on an inline (whose has_add_permission also receives the parent)."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
