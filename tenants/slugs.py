"""What a tenant slug may be, and the schema and host it maps to."""

import re

from django.conf import settings

from tenants.exceptions import SlugInvalid

SLUG_MIN_LENGTH = 3
SLUG_MAX_LENGTH = 40
# Starts with a letter (a schema name may not start with a digit), ends with a letter or digit, single hyphens.
SLUG_PATTERN = re.compile(r"^[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*$")


def slug_validate(slug: str) -> str:
    """Return the slug if it may name a new tenant, else raise SlugInvalid with a message for the person typing it."""
    if not SLUG_MIN_LENGTH <= len(slug) <= SLUG_MAX_LENGTH:
        raise SlugInvalid(f"Use {SLUG_MIN_LENGTH} to {SLUG_MAX_LENGTH} characters.", field="slug")
    if not SLUG_PATTERN.match(slug):
        raise SlugInvalid(
            "Use lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen.",
            field="slug",
        )
    if slug in settings.TENANT_RESERVED_SLUGS or slug.startswith("pg-"):
        raise SlugInvalid("This name is reserved. Please choose another.", field="slug")
    return slug


def schema_name_for(slug: str) -> str:
    """Hyphens are not safe unquoted in PostgreSQL identifiers; slugs never contain underscores, so this is 1:1."""
    return slug.replace("-", "_")


def primary_domain_for(slug: str) -> str:
    return f"{slug}.{settings.BASE_DOMAIN}"
