"""Money going back out through Stripe: card refunds of credit notes, and disputes (chargebacks) a cardholder's
bank opened on a payment. Both are keyed by Stripe's object id under a unique constraint, so a webhook delivered
twice, late or out of order changes our books once."""

from django.db import models

from billing.models.invoices import AMOUNT, CreditNote, Invoice
from billing.models.payments import Payment
from tenants.models import Tenant


class CardRefund(models.Model):
    """A credit note's amount going back to the card that paid its invoice: one Stripe Refund.

    Asked for with the Idempotency-Key `credit-note-<id>-refund`, so a retried task reaches Stripe's one Refund. A
    refund made in Stripe's dashboard on a charge of ours gets a credit note (refund to card) and a row here when
    charge.refunded arrives, so the invoice's credited amount always matches what went back."""

    class Status(models.TextChoices):
        PENDING = "pending", "Asked of Stripe, not settled yet"
        SUCCEEDED = "succeeded", "Refunded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    credit_note = models.OneToOneField(CreditNote, on_delete=models.PROTECT, related_name="card_refund")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="card_refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="card_refunds",
                                help_text="The card payment the money goes back to.")
    refund_id = models.CharField(max_length=255, null=True, blank=True, unique=True,
                                 help_text="Stripe's Refund (re_...), once Stripe answered.")
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="card_refund_amount_positive")]
        indexes = [models.Index(fields=["tenant", "created_at"], name="card_refund_tenant_idx")]

    def __str__(self) -> str:
        return f"Refund of {self.credit_note_id} ({self.status})"


class Dispute(models.Model):
    """A chargeback on one of our card payments, as Stripe last described it (statuses are Stripe's own)."""

    class Status(models.TextChoices):
        WARNING_NEEDS_RESPONSE = "warning_needs_response", "Inquiry: needs a response"
        WARNING_UNDER_REVIEW = "warning_under_review", "Inquiry: under review"
        WARNING_CLOSED = "warning_closed", "Inquiry closed"
        NEEDS_RESPONSE = "needs_response", "Needs a response"
        UNDER_REVIEW = "under_review", "Under review"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    CLOSED_STATUSES = (Status.WARNING_CLOSED, Status.WON, Status.LOST)

    dispute_id = models.CharField(max_length=255, unique=True, help_text="Stripe's Dispute (dp_...).")
    charge_id = models.CharField(max_length=255)
    payment_intent_id = models.CharField(max_length=255, blank=True)
    # Empty when the disputed payment is not one of ours (then ops see it in the admin and nothing else changes).
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="disputes")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="disputes")
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=30, choices=Status.choices, db_index=True)
    evidence_due_by = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["tenant", "opened_at"], name="dispute_tenant_idx")]

    def __str__(self) -> str:
        return f"{self.dispute_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status not in self.CLOSED_STATUSES
