"""Subscriptions: which price a tenant pays, for which period, and the history of every change."""

from django.db import models

from billing.models.catalogue import Plan, Price
from tenants.models import Tenant

# The statuses in which a subscription is the tenant's current one (at most one, by a partial unique index).
CURRENT_STATUSES = ("trialing", "active", "past_due", "paused")


class Subscription(models.Model):
    """A tenant on a price for a period. The period rolls over in the billing run, which issues the invoice of
    the period just closed (usage, in arrears) and the next period's fixed fees (in advance) exactly once."""

    class Status(models.TextChoices):
        TRIALING = "trialing", "Trialing"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        PAUSED = "paused", "Paused"
        CANCELED = "canceled", "Canceled"
        EXPIRED = "expired", "Expired"

    class CollectionMethod(models.TextChoices):
        MANUAL = "manual", "Manual (bank transfer, marked paid by ops)"
        STRIPE = "stripe", "Stripe (card charged automatically)"

    class BillingAnchor(models.TextChoices):
        ANNIVERSARY = "anniversary", "Anniversary of the start"
        CALENDAR_MONTH = "calendar_month", "First of the month (first period prorated)"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    price = models.ForeignKey(Price, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=20, choices=Status.choices, db_index=True)
    quantity = models.PositiveIntegerField(default=1, help_text="Seats.")
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField()
    trial_end = models.DateTimeField(null=True, blank=True)
    trial_reminder_sent_at = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    collection_method = models.CharField(max_length=10, choices=CollectionMethod.choices,
                                         default=CollectionMethod.MANUAL)
    billing_anchor = models.CharField(max_length=20, choices=BillingAnchor.choices,
                                      default=BillingAnchor.ANNIVERSARY)
    # What takes effect when the period ends (a downgrade, an interval change asked for later, fewer seats).
    scheduled_price = models.ForeignKey(Price, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    scheduled_quantity = models.PositiveIntegerField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    past_due_since = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["tenant"], condition=models.Q(status__in=CURRENT_STATUSES),
                                    name="subscription_one_current_per_tenant"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="subscription_quantity_positive"),
            models.CheckConstraint(condition=models.Q(current_period_end__gt=models.F("current_period_start")),
                                   name="subscription_period_not_empty"),
            models.CheckConstraint(condition=models.Q(scheduled_quantity__isnull=True)
                                   | models.Q(scheduled_quantity__gte=1),
                                   name="subscription_scheduled_quantity_positive"),
        ]
        indexes = [
            # What the billing run reads: current subscriptions by the end of their period.
            models.Index(fields=["current_period_end"], condition=models.Q(status__in=CURRENT_STATUSES),
                         name="subscription_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.price.code} ({self.status})"

    @property
    def is_current(self) -> bool:
        return self.status in CURRENT_STATUSES


class SubscriptionEvent(models.Model):
    """One change to a subscription: who made it, what it was, the fields before and after. Append-only."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="events")
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)
    action = models.CharField(max_length=40)
    actor = models.CharField(max_length=254, help_text="The user's email, or \"system\" for scheduled work.")
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "created_at"], name="subscription_event_tenant_idx")]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.action}"
