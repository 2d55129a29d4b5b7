"""Wallet.recharge_below: the auto-recharge threshold while billing keeps auto-recharge armed (billing 0013)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("metering", "0015_notification_jobs"),
    ]

    operations = [
        migrations.AddField(
            model_name="wallet",
            name="recharge_below",
            field=models.BigIntegerField(
                blank=True, editable=False, null=True,
                help_text="Auto-recharge is armed: a debit leaving the balance below this asks billing for a "
                          "recharge."),
        ),
        migrations.AddConstraint(
            model_name="wallet",
            constraint=models.CheckConstraint(condition=models.Q(recharge_below__gte=1),
                                              name="wallet_recharge_below_positive"),
        ),
    ]
