"""Idempotency records belong to a caller (API key or user) as well as a tenant, remember when their current
execution started (so a retry can take over a crashed one), and never keep a secret.

Records written before this migration don't name their caller, so they could never be replayed safely to
anyone, and the ones of POST /api/v1/api-keys hold a key's full secret: all are deleted (they are a 24-hour
cache of answers; a retry of one of them runs again)."""

import django.utils.timezone
from django.db import migrations, models


def records_delete(apps, schema_editor):
    apps.get_model("tenants", "IdempotencyRecord").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("tenants", "0005_idempotency_body_as_text"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="idempotencyrecord",
            name="idempotency_key_unique_per_tenant",
        ),
        migrations.AddField(
            model_name="idempotencyrecord",
            name="caller",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="idempotencyrecord",
            name="started_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="idempotencyrecord",
            name="secret_withheld",
            field=models.BooleanField(default=False),
        ),
        migrations.AddConstraint(
            model_name="idempotencyrecord",
            constraint=models.UniqueConstraint(fields=("tenant", "caller", "key"),
                                               name="idempotency_key_unique_per_caller"),
        ),
        # Last: PostgreSQL refuses an ALTER TABLE after data changes in the same transaction that left pending
        # trigger events.
        migrations.RunPython(records_delete, migrations.RunPython.noop),
    ]
