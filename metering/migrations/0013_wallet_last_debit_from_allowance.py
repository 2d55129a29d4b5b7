"""A scratch column the debit statement writes, so that one UPDATE can return what it took from the allowance
without locking the wallet's row separately first."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("metering", "0012_ai_reservations"),
    ]

    operations = [
        migrations.AddField(
            model_name="wallet",
            name="last_debit_from_allowance",
            field=models.BigIntegerField(db_default=0, default=0, editable=False),
        ),
    ]
