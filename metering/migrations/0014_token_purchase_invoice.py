"""Token packs are sold on one-time invoices (billing.token_packs): each order points at its invoice, one each
way, and counts the tokens credit notes on that invoice took back, never more than it added."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0003_billing_engine"),
        ("metering", "0013_wallet_last_debit_from_allowance"),
    ]

    operations = [
        migrations.AddField(
            model_name="tokenpurchase",
            name="invoice",
            field=models.OneToOneField(blank=True, help_text="The one-time invoice that sells this order.", null=True,
                                       on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                       to="billing.invoice"),
        ),
        migrations.AddField(
            model_name="tokenpurchase",
            name="tokens_refunded",
            field=models.BigIntegerField(db_default=0, default=0,
                                         help_text="Tokens taken back by credit notes on the invoice."),
        ),
        migrations.AddConstraint(
            model_name="tokenpurchase",
            constraint=models.CheckConstraint(
                condition=models.Q(("tokens_refunded__gte", 0), ("tokens_refunded__lte", models.F("tokens"))),
                name="token_purchase_refunded_within_tokens"),
        ),
    ]
