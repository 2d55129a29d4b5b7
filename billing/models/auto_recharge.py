"""Wallet auto-recharge (billing.auto_recharge): a tenant with a saved card keeps its AI-token balance topped up.
When usage leaves the balance below the threshold, the chosen token pack is ordered on a one-time invoice collected
by Stripe and charged off-session at once; the tokens are credited when that invoice is paid."""

from django.db import models

from billing.models.invoices import Invoice
from tenants.models import Tenant


class AutoRecharge(models.Model):
    """A tenant's auto-recharge setting: one row per tenant, locked by every decision taken about it (turning it
    on or off, starting a recharge). A failed recharge turns it off (`off_reason`) until the tenant turns it on
    again."""

    class OffReason(models.TextChoices):
        TURNED_OFF = "turned_off", "Turned off"
        CARD_DECLINED = "card_declined", "The card was declined"
        NO_CARD = "no_card", "There was no saved card to charge"
        ACTION_REQUIRED = "action_required", "The bank asked the cardholder to confirm the payment"
        PACK_UNAVAILABLE = "pack_unavailable", "The token pack is no longer offered"
        ORDER_AWAITING_PAYMENT = "order_awaiting_payment", "An order of the same pack awaits payment"
        STRIPE_OFF = "stripe_off", "Card payments are turned off"

    tenant = models.OneToOneField(Tenant, on_delete=models.PROTECT, related_name="+")
    enabled = models.BooleanField(default=False)
    threshold = models.BigIntegerField(help_text="Recharge when usage leaves the balance below this many tokens.")
    # A string reference, not an import: billing reads metering's packs through its services and selectors.
    pack = models.ForeignKey("metering.TokenPack", on_delete=models.PROTECT, related_name="+")
    off_reason = models.CharField(max_length=30, choices=OffReason.choices, blank=True)
    off_detail = models.CharField(max_length=500, blank=True, help_text="What the bank or Stripe said, if anything.")
    changed_by = models.CharField(max_length=255, blank=True)
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(threshold__gte=1), name="auto_recharge_threshold_positive"),
            models.CheckConstraint(condition=models.Q(enabled=False) | models.Q(off_reason=""),
                                   name="auto_recharge_on_has_no_off_reason"),
        ]

    def __str__(self) -> str:
        return f"Auto-recharge of {self.tenant} ({'on' if self.enabled else 'off'})"


class AutoRechargeOrder(models.Model):
    """One recharge: the token-pack order it placed, the invoice that sells it, and how it ended (paid: the tokens
    were credited; failed: the invoice was voided). At most one per tenant is in flight, and the database says so:
    a new recharge can start only once the previous one has settled."""

    class Status(models.TextChoices):
        PENDING = "pending", "Charging"
        PAID = "paid", "Paid"
        FAILED = "failed", "Not paid (voided)"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)
    purchase = models.OneToOneField("metering.TokenPurchase", on_delete=models.PROTECT, related_name="+")
    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    balance_at_start = models.BigIntegerField(help_text="The balance that started it.")
    threshold = models.BigIntegerField()
    failure_code = models.CharField(max_length=100, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    action_url = models.URLField(max_length=2048, blank=True,
                                 help_text="The hosted page where the cardholder confirms the payment (SCA).")
    created_at = models.DateTimeField()
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant"], condition=models.Q(status="pending"),
                                    name="auto_recharge_one_in_flight"),
            models.CheckConstraint(condition=models.Q(status="pending", settled_at__isnull=True)
                                   | (~models.Q(status="pending") & models.Q(settled_at__isnull=False)),
                                   name="auto_recharge_order_settled_at_iff_settled"),
        ]
        indexes = [models.Index(fields=["tenant", "created_at"], name="auto_recharge_order_tenant_idx")]

    def __str__(self) -> str:
        return f"Auto-recharge #{self.pk} of {self.tenant} ({self.status})"
