"""Placeholder reserved for the hardening work on the wallet ledger (refunds return to their grant, amounts owed)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("metering", "0009_model_prices_seed"),
    ]

    operations = []
