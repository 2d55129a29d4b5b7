"""API keys may hold the `billing` scope: changing the subscription (plan, seats, cancel, reactivate)."""

import django.contrib.postgres.fields
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("tenants", "0006_idempotency_caller"),
    ]

    operations = [
        migrations.AlterField(
            model_name="apikey",
            name="scopes",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(
                    choices=[("read", "Read"), ("write", "Write"), ("usage:write", "Send usage events"),
                             ("ai", "Call the AI API"), ("billing", "Change the subscription")],
                    max_length=20),
                size=None),
        ),
    ]
