"""Placeholder reserved for the hardening work on the AI gateway (open reservations and their sweep)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("metering", "0011_meter_write_policy"),
    ]

    operations = []
