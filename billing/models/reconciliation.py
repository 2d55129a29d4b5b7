"""The daily comparison of our open invoices with Stripe's view of their payments (billing.payments.reconciliation):
one row per run, and one per disagreement it could not settle on its own, for ops to look at."""

from django.db import models

from billing.models.invoices import Invoice
from billing.models.payments import Payment
from tenants.models import Tenant


class ReconciliationRun(models.Model):
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    invoices_checked = models.PositiveIntegerField(default=0)
    payments_settled = models.PositiveIntegerField(default=0,
                                                   help_text="Payments a missed webhook had left unsettled.")
    disagreements = models.PositiveIntegerField(default=0, help_text="Left for ops.")

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Reconciliation {self.started_at:%Y-%m-%d %H:%M}"


class ReconciliationDisagreement(models.Model):
    """Something where our books and Stripe disagree and that reconciliation could not settle. One open row per
    (kind, Stripe object): the next day's run finds it again and updates `last_seen_at` instead of adding one."""

    class Kind(models.TextChoices):
        AMOUNT_MISMATCH = "amount_mismatch", "Stripe received a different amount"
        CURRENCY_MISMATCH = "currency_mismatch", "Stripe received another currency"
        PAID_ELSEWHERE = "paid_elsewhere", "Stripe has the money, the invoice is settled another way"
        INTENT_MISSING = "intent_missing", "Stripe does not know the payment intent"
        STATE_MISMATCH = "state_mismatch", "Our payment and Stripe's disagree"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    stripe_id = models.CharField(max_length=255, help_text="The Stripe object it is about (pi_...).")
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    first_run = models.ForeignKey(ReconciliationRun, on_delete=models.PROTECT, related_name="disagreements_found")
    message = models.CharField(max_length=500)
    detail = models.JSONField(default=dict, blank=True, help_text="Both sides' figures, as the last run saw them.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=254, blank=True)
    resolution_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "stripe_id"], condition=models.Q(status="open"),
                                    name="reconciliation_disagreement_open_once"),
            models.CheckConstraint(condition=models.Q(status="open") | models.Q(resolved_at__isnull=False),
                                   name="reconciliation_resolved_has_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.stripe_id}"
