"""Revenue analytics: daily snapshots of every subscription's monthly recurring revenue and the per-day, per-currency
figures the ops dashboard reads, so that the dashboard never recomputes history and history survives changes.

Written only by billing.analytics.services (the 02:00 UTC beat job and `manage.py revenue_backfill`): a day
snapshotted again replaces its rows. Amounts are exact to the micro-unit (MRR divides annual prices by 12) and
rounded to the currency's minor units only when shown; every figure is per currency (no exchange rates)."""

from django.db import models

from billing.models.catalogue import Plan, Price
from billing.models.subscriptions import Subscription
from tenants.models import Tenant

MRR = {"max_digits": 20, "decimal_places": 6, "default": 0}
AMOUNT = {"max_digits": 20, "decimal_places": 4, "default": 0}


class RevenueSnapshot(models.Model):
    """One snapshotted day (UTC): the state of every subscription at the end of that day."""

    day = models.DateField(unique=True)
    taken_at = models.DateTimeField()
    subscriptions = models.PositiveIntegerField(default=0, help_text="Subscription rows written for the day.")
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        verbose_name = "revenue dashboard"
        verbose_name_plural = "revenue dashboard"

    def __str__(self) -> str:
        return self.day.isoformat()


class SubscriptionRevenueDay(models.Model):
    """A subscription as it stood at the end of `day` (trialing, active, past due or paused; ended ones have no
    row) and its MRR: the recurring amount normalised to a month after recurring discounts, 0 while trialing
    or paused."""

    day = models.DateField()
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+", db_index=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+", db_index=False)
    price = models.ForeignKey(Price, on_delete=models.PROTECT, related_name="+", db_index=False)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20)
    quantity = models.PositiveIntegerField()
    mrr = models.DecimalField(**MRR)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "subscription"], name="revenue_subscription_day_unique"),
            models.CheckConstraint(condition=models.Q(mrr__gte=0), name="revenue_subscription_day_mrr_not_negative"),
        ]
        indexes = [
            # "Did this customer pay before?" (reactivation vs new), asked for the few who start paying on a day.
            models.Index(fields=["tenant", "currency", "day"], condition=models.Q(mrr__gt=0),
                         name="revenue_sub_day_paid_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.subscription_id} {self.mrr} {self.currency}"


class RevenueDay(models.Model):
    """One day's recurring-revenue figures in one currency: MRR at the end of the day, the customers and
    subscriptions behind it, and the day's MRR movements (customer by customer, against the day before)."""

    day = models.DateField()
    currency = models.CharField(max_length=3)
    mrr = models.DecimalField(**MRR)
    customers = models.PositiveIntegerField(default=0, help_text="Tenants with MRR > 0 in this currency.")
    subscriptions_paying = models.PositiveIntegerField(default=0)
    subscriptions_trialing = models.PositiveIntegerField(default=0)
    subscriptions_paused = models.PositiveIntegerField(default=0)
    subscriptions_past_due = models.PositiveIntegerField(default=0)
    new_mrr = models.DecimalField(**MRR)
    expansion_mrr = models.DecimalField(**MRR)
    contraction_mrr = models.DecimalField(**MRR)
    churned_mrr = models.DecimalField(**MRR)
    reactivation_mrr = models.DecimalField(**MRR)
    new_customers = models.PositiveIntegerField(default=0)
    churned_customers = models.PositiveIntegerField(default=0)
    reactivated_customers = models.PositiveIntegerField(default=0)
    trials_converted = models.PositiveIntegerField(default=0)
    trials_lost = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day", "currency"]
        constraints = [models.UniqueConstraint(fields=["day", "currency"], name="revenue_day_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.currency} {self.mrr}"


class RevenuePlanDay(models.Model):
    """Subscriptions and MRR per plan and currency at the end of a day."""

    day = models.DateField()
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+", db_index=False)
    currency = models.CharField(max_length=3)
    active = models.PositiveIntegerField(default=0, help_text="Active or past due.")
    trialing = models.PositiveIntegerField(default=0)
    paused = models.PositiveIntegerField(default=0)
    mrr = models.DecimalField(**MRR)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "plan", "currency"], name="revenue_plan_day_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.plan_id} {self.currency}"


class RevenueMoneyDay(models.Model):
    """What the invoices say about one UTC day in one currency, recomputed from the invoices at every snapshot
    (so a payment or credit note recorded later lands on its own day): issued (non-void invoice totals), credit
    notes, cash collected (amounts paid), usage and AI-token revenue (their lines, before discounts and tax),
    and the payments that failed (invoices unpaid on their due day) with what was recovered later."""

    day = models.DateField()
    currency = models.CharField(max_length=3)
    invoiced = models.DecimalField(**AMOUNT)
    credited = models.DecimalField(**AMOUNT)
    cash_collected = models.DecimalField(**AMOUNT)
    usage_revenue = models.DecimalField(**AMOUNT)
    token_revenue = models.DecimalField(**AMOUNT)
    failed_count = models.PositiveIntegerField(default=0)
    failed_amount = models.DecimalField(**AMOUNT)
    recovered_count = models.PositiveIntegerField(default=0)
    recovered_amount = models.DecimalField(**AMOUNT)

    class Meta:
        ordering = ["day", "currency"]
        constraints = [models.UniqueConstraint(fields=["day", "currency"], name="revenue_money_day_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.currency}"


class TenantChurnRisk(models.Model):
    """A current customer's churn-risk score (0-100) as of the latest snapshot, with each factor's signal (0-1)
    and the facts it came from. One row per tenant, replaced by every snapshot of the latest day."""

    class Level(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"
        CRITICAL = "critical", "Critical"

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    score = models.DecimalField(max_digits=5, decimal_places=1)
    level = models.CharField(max_length=10, choices=Level.choices)
    low_usage = models.DecimalField(max_digits=4, decimal_places=3)
    failed_payments = models.DecimalField(max_digits=4, decimal_places=3)
    no_team = models.DecimalField(max_digits=4, decimal_places=3)
    oldest_features_only = models.DecimalField(max_digits=4, decimal_places=3)
    active_days = models.PositiveSmallIntegerField(help_text="Days with usage in the 30 days before the snapshot.")
    failed_payment_count = models.PositiveIntegerField(help_text="In the 90 days before the snapshot.")
    past_due = models.BooleanField()
    members = models.PositiveIntegerField(null=True, help_text="Active team members; empty when unknown.")
    meters_used = models.JSONField(default=list)
    mrr = models.DecimalField(**MRR)
    currency = models.CharField(max_length=3)

    class Meta:
        ordering = ["-score", "tenant_id"]
        indexes = [models.Index(fields=["-score"], name="tenant_churn_risk_score_idx")]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.score} ({self.level})"
