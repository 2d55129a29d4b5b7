"""Saved content documents for tests, written straight into a tenant's schema (no AI call)."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from django_tenants.utils import schema_context

from creators.models import ContentDocument


def content_document_make(tenant, *, title: str = "A draft", output: str = "# A draft\n\nSome text.",
                          author=None, **fields) -> ContentDocument:
    now = timezone.now()
    values = {"template_key": "marketing-copy", "template_version": 1, "template_name": "Marketing copy",
              "inputs": {"topic": "Bread"}, "model": "claude-sonnet-4-6", "input_tokens": 100, "output_tokens": 50,
              "cost": Decimal("0.001050"), "currency": "USD", "created_at": now, "updated_at": now, **fields}
    with schema_context(tenant.schema_name):
        return ContentDocument.objects.create(title=title, output=output, author=author, **values)
