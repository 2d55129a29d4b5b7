"""Reads of the content-template catalogue (public schema)."""

from __future__ import annotations

from django.db.models import QuerySet

from creators.catalog.fields import FieldSpec, field_specs_parse
from creators.catalog.models import ContentTemplate


def content_template_list_active() -> QuerySet[ContentTemplate]:
    """The templates offered to tenants: the active version of each key."""
    return ContentTemplate.objects.filter(is_active=True).order_by("category", "name")


def content_template_active_get(*, key: str) -> ContentTemplate | None:
    return ContentTemplate.objects.filter(key=key, is_active=True).first()


def content_template_specs(*, template: ContentTemplate) -> list[FieldSpec]:
    """The template's fields. Saved templates were checked when ops saved them (admin), so this parses."""
    return field_specs_parse(template.fields)
