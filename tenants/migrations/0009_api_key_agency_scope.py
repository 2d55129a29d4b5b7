"""API keys may hold the `agency` scope (an agency's client workspaces, /api/v1/clients); the audit log names
agency staff acting in a client's workspace as their own source."""

import django.contrib.postgres.fields
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("tenants", "0008_api_key_coach_scope"),
    ]

    operations = [
        migrations.AlterField(
            model_name="apikey",
            name="scopes",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(
                    choices=[("read", "Read"), ("write", "Write"), ("usage:write", "Send usage events"),
                             ("ai", "Call the AI API"), ("billing", "Change the subscription"),
                             ("coach", "Use the creator coach as the key's creator"),
                             ("agency", "Manage the agency's client workspaces")],
                    max_length=20),
                size=None),
        ),
        migrations.AlterField(
            model_name="tenantauditlog",
            name="source",
            field=models.CharField(
                choices=[("ops", "Ops admin"), ("staff", "Tenant staff"),
                         ("agency", "Agency staff acting for their agency")],
                default="ops", max_length=10),
        ),
    ]
