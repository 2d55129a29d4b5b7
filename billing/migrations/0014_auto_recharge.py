"""Wallet auto-recharge: the per-tenant setting and each recharge's order, at most one in flight per tenant."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0013_invoice_line_late_usage"),
        ("metering", "0016_wallet_recharge_below"),
        ("tenants", "0007_api_key_billing_scope"),
    ]

    operations = [
        migrations.CreateModel(
            name="AutoRecharge",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("enabled", models.BooleanField(default=False)),
                ("threshold", models.BigIntegerField(
                    help_text="Recharge when usage leaves the balance below this many tokens.")),
                ("off_reason", models.CharField(blank=True, choices=[
                    ("turned_off", "Turned off"), ("card_declined", "The card was declined"),
                    ("no_card", "There was no saved card to charge"),
                    ("action_required", "The bank asked the cardholder to confirm the payment"),
                    ("pack_unavailable", "The token pack is no longer offered"),
                    ("order_awaiting_payment", "An order of the same pack awaits payment"),
                    ("stripe_off", "Card payments are turned off")], max_length=30)),
                ("off_detail", models.CharField(blank=True, help_text="What the bank or Stripe said, if anything.",
                                                max_length=500)),
                ("changed_by", models.CharField(blank=True, max_length=255)),
                ("changed_at", models.DateTimeField()),
                ("pack", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                           to="metering.tokenpack")),
                ("tenant", models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                                to="tenants.tenant")),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("threshold__gte", 1)),
                                           name="auto_recharge_threshold_positive"),
                    models.CheckConstraint(condition=models.Q(("enabled", False), ("off_reason", ""), _connector="OR"),
                                           name="auto_recharge_on_has_no_off_reason"),
                ],
            },
        ),
        migrations.CreateModel(
            name="AutoRechargeOrder",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("status", models.CharField(choices=[("pending", "Charging"), ("paid", "Paid"),
                                                     ("failed", "Not paid (voided)")],
                                            default="pending", max_length=20)),
                ("balance_at_start", models.BigIntegerField(help_text="The balance that started it.")),
                ("threshold", models.BigIntegerField()),
                ("failure_code", models.CharField(blank=True, max_length=100)),
                ("failure_message", models.CharField(blank=True, max_length=500)),
                ("action_url", models.URLField(
                    blank=True, help_text="The hosted page where the cardholder confirms the payment (SCA).",
                    max_length=2048)),
                ("created_at", models.DateTimeField()),
                ("settled_at", models.DateTimeField(blank=True, null=True)),
                ("invoice", models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                                 to="billing.invoice")),
                ("purchase", models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                                  to="metering.tokenpurchase")),
                ("tenant", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                             related_name="+", to="tenants.tenant")),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "indexes": [models.Index(fields=["tenant", "created_at"], name="auto_recharge_order_tenant_idx")],
                "constraints": [
                    models.UniqueConstraint(condition=models.Q(("status", "pending")), fields=("tenant",),
                                            name="auto_recharge_one_in_flight"),
                    models.CheckConstraint(
                        condition=models.Q(models.Q(("settled_at__isnull", True), ("status", "pending")),
                                           models.Q(models.Q(("status", "pending"), _negated=True),
                                                    ("settled_at__isnull", False)), _connector="OR"),
                        name="auto_recharge_order_settled_at_iff_settled"),
                ],
            },
        ),
    ]
