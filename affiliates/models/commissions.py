from django.db import models

from affiliates.models.program import MONEY, RATE, Affiliate
from affiliates.models.referrals import Referral


class Payout(models.Model):
    """Approved commissions of one affiliate batched for one cycle. Never negative: a negative balance (clawbacks
    after a payout) waits for the next one."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (to send)"
        EXPORTED = "exported", "Exported (CSV sent to PayPal or Wise)"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"

    affiliate = models.ForeignKey(Affiliate, on_delete=models.PROTECT, related_name="payouts")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=20, choices=Affiliate.PayoutMethod.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    period_end = models.DateField(help_text="The cycle it pays: commissions approved up to this day.")
    reference = models.CharField(max_length=255, blank=True, help_text="The transfer id or the payment reference.")
    created_at = models.DateTimeField()
    exported_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payout_amount_positive"),
            models.UniqueConstraint(fields=["affiliate", "period_end", "currency"],
                                    name="payout_one_per_affiliate_cycle"),
        ]

    def __str__(self) -> str:
        return f"Payout {self.pk}: {self.amount} {self.currency} to {self.affiliate_id}"


class Commission(models.Model):
    """An affiliate's share of one paid invoice, or an adjustment of it (a refund, a credit note, a dispute lost:
    negative). `source_key` makes each one exactly once ("invoice:<id>", "credit_note:<id>", "dispute:<id>")."""

    class Kind(models.TextChoices):
        EARNED = "earned", "Earned on a paid invoice"
        ADJUSTMENT = "adjustment", "Adjustment (refund, credit note, dispute)"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (holding period)"
        APPROVED = "approved", "Approved (payable)"
        HELD = "held", "Held (a dispute or a fraud flag)"
        PAID = "paid", "Paid"
        REVERSED = "reversed", "Reversed"

    affiliate = models.ForeignKey(Affiliate, on_delete=models.PROTECT, related_name="commissions")
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="commissions")
    invoice = models.ForeignKey("billing.Invoice", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.EARNED)
    source_key = models.CharField(max_length=100, unique=True)
    base_amount = models.DecimalField(help_text="The paid amount before tax it was computed on.", **MONEY)
    rate = models.DecimalField(**RATE)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    held_reason = models.CharField(max_length=300, blank=True)
    payable_at = models.DateTimeField(help_text="The end of the holding period.")
    payout = models.ForeignKey(Payout, null=True, blank=True, on_delete=models.PROTECT, related_name="commissions")
    created_at = models.DateTimeField()
    approved_at = models.DateTimeField(null=True, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["affiliate", "status"], name="commission_affil_status_idx")]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "affiliate"], condition=models.Q(kind="earned"),
                                    name="commission_earned_once_per_invoice"),
            models.CheckConstraint(condition=models.Q(kind="adjustment") | models.Q(amount__gte=0),
                                   name="commission_earned_not_negative"),
            models.CheckConstraint(condition=~models.Q(status="paid") | models.Q(payout__isnull=False),
                                   name="commission_paid_in_a_payout"),
        ]

    def __str__(self) -> str:
        return f"Commission {self.pk}: {self.amount} {self.currency} ({self.status})"


class FraudFlag(models.Model):
    """A reason to look before paying: it holds the commissions it names until ops clear or confirm it."""

    class Rule(models.TextChoices):
        SELF_REFERRAL = "self_referral", "Self-referral"
        SIGNUP_BURST = "signup_burst", "Burst of signups from one IP or network"
        DISPOSABLE_EMAIL = "disposable_email", "Disposable email domain"
        REFUND_RATE = "refund_rate", "High refund or dispute rate"
        MIN_PAYING_CUSTOMERS = "min_paying_customers", "Too few paying customers for a first payout"
        MANUAL_APPROVAL = "manual_approval", "Above the manual approval amount"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLEARED = "cleared", "Cleared"
        CONFIRMED = "confirmed", "Confirmed (commissions reversed)"

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="fraud_flags")
    referral = models.ForeignKey(Referral, null=True, blank=True, on_delete=models.CASCADE, related_name="fraud_flags")
    commission = models.ForeignKey(Commission, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="fraud_flags")
    rule = models.CharField(max_length=30, choices=Rule.choices)
    reason = models.CharField(max_length=500)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True)
    reviewed_by = models.CharField(max_length=254, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
