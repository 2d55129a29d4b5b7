"""The billing emails sent, one row per (kind, cause): the row is what makes each email go out at most once."""

from django.db import models

from tenants.models import Tenant


class BillingEmail(models.Model):
    class Kind(models.TextChoices):
        TRIAL_ENDING = "trial_ending", "Trial ending"
        INVOICE_ISSUED = "invoice_issued", "Invoice issued"
        INVOICE_PAID = "invoice_paid", "Invoice paid"
        SUBSCRIPTION_CHANGED = "subscription_changed", "Subscription changed"
        QUOTE_SENT = "quote_sent", "Quote sent"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    cause = models.CharField(max_length=100, help_text="What the email is about, e.g. invoice:42.")
    subject = models.CharField(max_length=200)
    recipients = models.JSONField(default=list)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [models.UniqueConstraint(fields=["kind", "cause"], name="billing_email_once_per_cause")]
        indexes = [models.Index(fields=["tenant", "sent_at"], name="billing_email_tenant_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.cause}"
