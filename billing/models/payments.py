"""Collecting invoices through Stripe: each attempt to collect one (a Payment, one PaymentIntent), and the ledger
of what Stripe's objects changed in our books, recorded once per object.

The invoice stays the source of truth: Stripe is asked for its amount due and, when the money arrives, the
invoice is settled through billing's invoicing services. A Stripe object id appears at most once per kind of
settlement (StripeSettlement's unique constraint), so a webhook delivered twice, late or out of order, or a
task retried after a crash, changes our books once."""

from django.db import models

from billing.models.invoices import AMOUNT, Invoice
from tenants.models import Tenant


class Payment(models.Model):
    """One attempt to collect an invoice: the PaymentIntent Stripe made for it and where that attempt stands.

    Attempts are numbered per invoice from 1; the off-session charge of attempt n uses the Idempotency-Key
    invoice-<id>-attempt-<n>, so asking twice for one attempt reaches Stripe's same PaymentIntent. A payment the
    tenant made on the invoice's hosted Checkout page is an attempt of its own."""

    class Status(models.TextChoices):
        REQUIRES_ACTION = "requires_action", "Waiting for the customer to authenticate"
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    class Source(models.TextChoices):
        OFF_SESSION = "off_session", "Saved card, charged off-session"
        CHECKOUT = "checkout", "Paid on the hosted Checkout page"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    attempt = models.PositiveSmallIntegerField()
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.OFF_SESSION)
    # Empty when the attempt never reached Stripe (no card on file).
    payment_intent_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices, db_index=True)
    failure_code = models.CharField(max_length=100, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    action_url = models.URLField(max_length=2048, blank=True,
                                 help_text="Where the customer authenticates or pays (a hosted Checkout page).")
    created_at = models.DateTimeField()
    settled_at = models.DateTimeField(null=True, blank=True, help_text="When it succeeded, failed or was canceled.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "attempt"], name="payment_one_per_invoice_attempt"),
            models.CheckConstraint(condition=models.Q(attempt__gte=1), name="payment_attempt_positive"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive"),
        ]
        indexes = [models.Index(fields=["tenant", "created_at"], name="payment_tenant_idx")]

    def __str__(self) -> str:
        return f"{self.invoice} attempt {self.attempt} ({self.status})"


class StripeSettlement(models.Model):
    """What one Stripe object changed in our books, written in the transaction that changed them. The unique
    (kind, stripe_id) makes every settlement happen once: whoever inserts the row second (a duplicate delivery,
    the success event after the Checkout event for the same payment, a retried task) changes nothing."""

    class Kind(models.TextChoices):
        INVOICE_PAID = "invoice_paid", "Invoice paid"  # a pi_: the PaymentIntent that paid it
        PAYMENT_FAILED = "payment_failed", "Payment failed"  # a pi_
        # Money that settles nothing: less than due, another tenant's invoice, an invoice already paid or void.
        PAYMENT_UNMATCHED = "payment_unmatched", "Payment received, invoice not settled"  # a pi_
        REFUND_RECORDED = "refund_recorded", "Refund recorded"  # a re_
        REFUND_FAILED = "refund_failed", "Refund failed"  # a re_
        DISPUTE_OPENED = "dispute_opened", "Dispute opened"  # a dp_
        DISPUTE_CLOSED = "dispute_closed", "Dispute closed"  # a dp_
        CARD_SAVED = "card_saved", "Card saved as the default"  # a cs_ (Checkout in setup mode)
        DEFAULT_SET = "default_set", "Attached card made the default"  # a pm_

    kind = models.CharField(max_length=20, choices=Kind.choices)
    stripe_id = models.CharField(max_length=255)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="settlements")
    amount = models.DecimalField(null=True, blank=True, **AMOUNT)
    currency = models.CharField(max_length=3, blank=True)
    event_id = models.CharField(max_length=255, blank=True, help_text="The Stripe event that brought it, if any.")
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "stripe_id"], name="stripe_settlement_once")]
        indexes = [models.Index(fields=["tenant", "created_at"], name="stripe_settlement_tenant_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.stripe_id}"
