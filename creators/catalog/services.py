"""Writes of the content-template catalogue: ops' edits, each one a new version.

A document records the template key and version it was written with, so a version is never changed once it
exists: an edit inserts the next version, active, and deactivates the one it replaces, in one transaction
(the partial unique constraint allows one active version per key)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from creators.catalog.models import ContentTemplate

# What an edit may change; key, version and the audit fields are the service's.
EDITABLE_FIELDS = ("name", "category", "description", "fields", "system_prompt", "prompt", "max_tokens")


@transaction.atomic
def content_template_create(*, values: dict[str, Any], key: str, actor: str) -> ContentTemplate:
    """Version 1 of a new key, active."""
    return ContentTemplate.objects.create(key=key, version=1, is_active=True, created_by=actor[:254],
                                          created_at=timezone.now(),
                                          **{name: values[name] for name in EDITABLE_FIELDS if name in values})


@transaction.atomic
def content_template_revise(*, key: str, values: dict[str, Any], actor: str) -> ContentTemplate:
    """The next version of `key`, built from its latest version with `values` applied, made the active one.
    Two ops saving at once both get a version (numbers from the locked latest row), and the later one is
    active."""
    latest = ContentTemplate.objects.select_for_update().filter(key=key).order_by("-version").first()
    if latest is None:
        raise ContentTemplate.DoesNotExist(f"No content template {key}.")
    version = (ContentTemplate.objects.filter(key=key).aggregate(top=Max("version"))["top"] or 0) + 1
    ContentTemplate.objects.filter(key=key, is_active=True).update(is_active=False)
    base = {name: getattr(latest, name) for name in EDITABLE_FIELDS}
    base.update({name: values[name] for name in EDITABLE_FIELDS if name in values})
    return ContentTemplate.objects.create(key=key, version=version, is_active=True, created_by=actor[:254],
                                          created_at=timezone.now(), **base)
