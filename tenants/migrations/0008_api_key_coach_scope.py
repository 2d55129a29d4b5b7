"""API keys may hold the `coach` scope: the creator coach, acting as the staff member who created the key."""

import django.contrib.postgres.fields
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("tenants", "0007_api_key_billing_scope"),
    ]

    operations = [
        migrations.AlterField(
            model_name="apikey",
            name="scopes",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(
                    choices=[("read", "Read"), ("write", "Write"), ("usage:write", "Send usage events"),
                             ("ai", "Call the AI API"), ("billing", "Change the subscription"),
                             ("coach", "Use the creator coach as the key's creator")],
                    max_length=20),
                size=None),
        ),
    ]
