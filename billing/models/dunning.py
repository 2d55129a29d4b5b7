"""Dunning: collecting an invoice whose card payment failed, by retrying it on a schedule (billing.payments.dunning).

One DunningCase per invoice (unique): it opens at the first failure and ends recovered (the invoice was paid, by
card or by hand), exhausted (the last retry failed: the invoice became uncollectible) or closed (the invoice was
voided or marked uncollectible by hand)."""

from django.db import models

from billing.models.invoices import Invoice
from billing.models.subscriptions import Subscription
from tenants.models import Tenant


class DunningCase(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Retrying"
        RECOVERED = "recovered", "Recovered (paid)"
        EXHAUSTED = "exhausted", "Exhausted (uncollectible)"
        CLOSED = "closed", "Closed (voided or written off by hand)"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="dunning_case")
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    started_at = models.DateTimeField(help_text="The first failure: the retry schedule counts from here.")
    retries_made = models.PositiveSmallIntegerField(
        default=0, help_text="Slots of the retry schedule used (BILLING_DUNNING_RETRY_DAYS).")
    last_attempt = models.PositiveSmallIntegerField(
        default=0, help_text="The highest attempt (Payment.attempt) dunning asked for or saw fail.")
    last_attempt_asked_at = models.DateTimeField(
        null=True, blank=True, help_text="When dunning last asked for a retry (enqueued its charge): a retry with "
                                         "no payment recorded well after this was lost on its way.")
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When the beat job acts next: a retry, or the end while waiting for the "
                                         "customer. Empty once the case has ended.")
    action_required_since = models.DateTimeField(
        null=True, blank=True, help_text="The bank wants the cardholder (SCA): no retries until they act or the "
                                         "card changes.")
    card_retried = models.CharField(max_length=255, blank=True,
                                    help_text="The last new default card retried at once (pm_...).")
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            # What the beat job reads: active cases by when they are due.
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="active"), name="dunning_due_idx"),
            models.Index(fields=["tenant", "started_at"], name="dunning_tenant_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(status="active") | models.Q(ended_at__isnull=False),
                                   name="dunning_ended_has_end"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice} dunning ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE
