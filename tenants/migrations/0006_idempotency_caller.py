"""Placeholder reserved for the hardening work on idempotency records (scoped to the caller)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("tenants", "0005_idempotency_body_as_text"),
    ]

    operations = []
