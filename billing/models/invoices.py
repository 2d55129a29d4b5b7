"""Invoices, their lines, the items waiting for the next invoice, credit notes, and the gapless numbering.

Amounts on lines are exact until each line is rounded once to the currency's minor units (half away from zero);
an invoice's totals are sums of rounded lines. A finalised invoice never changes: its lines and amounts are
guarded by database triggers (migration 0005), not only by the services."""

from django.db import models

from billing.models.catalogue import UsageCharge
from billing.models.consolidation import ConsolidatedBilling
from billing.models.subscriptions import Subscription
from tenants.models import Tenant

AMOUNT = {"max_digits": 16, "decimal_places": 4}
EXACT = {"max_digits": 24, "decimal_places": 10}


class DocumentSequence(models.Model):
    """The last number given per series (TG for invoices, CN for credit notes) and year: numbers are taken under
    a row lock at finalisation, so they have no gaps and never repeat."""

    series = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["series", "year"], name="document_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.series}-{self.year}: {self.last_number}"


class Invoice(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        VOID = "void", "Void"
        UNCOLLECTIBLE = "uncollectible", "Uncollectible"

    class Reason(models.TextChoices):
        SUBSCRIPTION_CREATE = "subscription_create", "Subscription started"
        SUBSCRIPTION_CYCLE = "subscription_cycle", "Billing period"
        SUBSCRIPTION_UPDATE = "subscription_update", "Subscription changed"
        ONE_TIME = "one_time", "One-time purchase"
        MANUAL = "manual", "Manual"
        CONSOLIDATED = "consolidated", "Consolidated (clients at wholesale)"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="invoices")
    billing_reason = models.CharField(max_length=30, choices=Reason.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    number = models.CharField(max_length=30, null=True, blank=True, unique=True)
    currency = models.CharField(max_length=3)
    # The period the invoice closes (usage in arrears); for a start invoice, the period it opens.
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    subtotal = models.DecimalField(default=0, **AMOUNT)
    discount_total = models.DecimalField(default=0, **AMOUNT)
    tax_total = models.DecimalField(default=0, **AMOUNT)
    total = models.DecimalField(default=0, **AMOUNT)
    credit_applied = models.DecimalField(default=0, **AMOUNT)
    amount_due = models.DecimalField(default=0, **AMOUNT)
    amount_paid = models.DecimalField(default=0, **AMOUNT)
    amount_credited = models.DecimalField(default=0, **AMOUNT, help_text="By credit notes.")
    tax_name = models.CharField(max_length=60, blank=True)
    tax_percentage = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    tax_inclusive = models.BooleanField(default=False)
    tax_legend = models.CharField(max_length=300, blank=True, help_text="e.g. the reverse-charge mention.")
    customer = models.JSONField(default=dict, help_text="The tenant's billing details as they were when issued.")
    issuer = models.JSONField(default=dict, help_text="The operator's details as they were when issued.")
    collection_method = models.CharField(max_length=20, default="manual")
    # Reseller mode (billing.consolidation): a client invoice finalised as consolidated names the arrangement it
    # was finalised under (so its payer), and, once carried, the payer's invoice that carries it (cleared when
    # that invoice is voided, so it can be carried again).
    consolidated_billing = models.ForeignKey(ConsolidatedBilling, on_delete=models.PROTECT, null=True, blank=True,
                                             related_name="invoices")
    consolidated_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="carried_invoices")
    memo = models.TextField(blank=True)
    finalize_after = models.DateTimeField(null=True, blank=True, help_text="End of the draft period.")
    issued_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    uncollectible_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Exactly one invoice per (subscription, period) for the run's invoices, however often it runs.
            models.UniqueConstraint(fields=["subscription", "billing_reason", "period_start"],
                                    condition=models.Q(billing_reason__in=["subscription_create",
                                                                           "subscription_cycle"]),
                                    name="invoice_one_per_subscription_period"),
            models.CheckConstraint(condition=models.Q(number__isnull=True, status="draft")
                                   | (models.Q(number__isnull=False) & ~models.Q(status="draft")),
                                   name="invoice_number_iff_finalised"),
            # The total may be negative (a downgrade's credit outweighing its charge): nothing is then due and
            # the difference goes to the account credit.
            models.CheckConstraint(condition=models.Q(amount_due__gte=0, amount_paid__gte=0, credit_applied__gte=0,
                                                      amount_credited__gte=0),
                                   name="invoice_amounts_not_negative"),
            models.CheckConstraint(condition=models.Q(amount_credited=0)
                                   | models.Q(amount_credited__lte=models.F("total")),
                                   name="invoice_credited_within_total"),
            # Consolidated collection and its arrangement go together; only a consolidated invoice is carried.
            models.CheckConstraint(condition=models.Q(collection_method="consolidated",
                                                      consolidated_billing__isnull=False)
                                   | (~models.Q(collection_method="consolidated")
                                      & models.Q(consolidated_billing__isnull=True)),
                                   name="invoice_consolidated_has_arrangement"),
            models.CheckConstraint(condition=models.Q(consolidated_into__isnull=True)
                                   | models.Q(collection_method="consolidated"),
                                   name="invoice_carried_if_consolidated"),
        ]
        indexes = [
            models.Index(fields=["tenant", "created_at"], name="invoice_tenant_idx"),
            models.Index(fields=["finalize_after"], condition=models.Q(status="draft"), name="invoice_draft_idx"),
        ]

    def __str__(self) -> str:
        return self.number or f"draft #{self.pk}"


# The statuses an invoice can have once issued (the API never shows drafts); named in the API's schema.
ISSUED_STATUS_CHOICES = [choice for choice in Invoice.Status.choices if choice[0] != Invoice.Status.DRAFT]


class InvoiceLine(models.Model):
    class Kind(models.TextChoices):
        FIXED = "fixed", "Fixed fee"
        SEATS = "seats", "Seats"
        USAGE = "usage", "Usage"
        MINIMUM = "minimum", "Minimum"
        PRORATION = "proration", "Proration"
        DISCOUNT = "discount", "Discount"
        ONE_TIME = "one_time", "One-time"
        WALLET_SHORTFALL = "wallet_shortfall", "AI tokens owed"
        LATE_USAGE = "late_usage", "Late usage"
        TOKEN_PACK = "token_pack", "AI-token pack"
        CONSOLIDATED = "consolidated", "Client invoice at wholesale"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    description = models.CharField(max_length=300)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    quantity = models.DecimalField(max_digits=24, decimal_places=6, default=1)
    unit_amount = models.DecimalField(null=True, blank=True, **EXACT)
    amount_exact = models.DecimalField(**EXACT)
    amount = models.DecimalField(**AMOUNT, help_text="amount_exact rounded once to the currency's minor units.")
    usage_charge = models.ForeignKey(UsageCharge, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    meter_code = models.CharField(max_length=50, blank=True)
    breakdown = models.JSONField(default=list, blank=True)
    taxable = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)
    # On a payer's consolidated invoice: the client invoice this line carries at wholesale.
    source_invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["invoice", "sort_order", "id"]
        constraints = [models.UniqueConstraint(fields=["invoice", "source_invoice"],
                                               name="invoice_line_source_once_per_invoice")]

    def __str__(self) -> str:
        return self.description


class PendingInvoiceItem(models.Model):
    """An amount waiting for the tenant's next invoice (a proration when changes are invoiced with the next
    period, a manual adjustment by ops). Taken exactly once: `invoice` is set in the transaction that bills it."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="pending_items")
    kind = models.CharField(max_length=20, choices=InvoiceLine.Kind.choices)
    description = models.CharField(max_length=300)
    currency = models.CharField(max_length=3)
    quantity = models.DecimalField(max_digits=24, decimal_places=6, default=1)
    amount_exact = models.DecimalField(**EXACT)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["subscription"], condition=models.Q(invoice__isnull=True),
                                name="pending_item_unbilled_idx")]

    def __str__(self) -> str:
        return self.description


class CreditNote(models.Model):
    """A refund or correction against one finalised invoice, never more than it can still credit. Its amount
    goes to the tenant's account credit (or, with Stripe, back to the card)."""

    class Reason(models.TextChoices):
        DUPLICATE = "duplicate", "Duplicate"
        PRODUCT_UNSATISFACTORY = "product_unsatisfactory", "Product unsatisfactory"
        ORDER_CHANGE = "order_change", "Order change"
        CORRECTION = "correction", "Correction"
        FRAUDULENT = "fraudulent", "Fraudulent"
        OTHER = "other", "Other"

    class RefundTo(models.TextChoices):
        ACCOUNT_CREDIT = "account_credit", "Account credit"
        CARD = "card", "Card (Stripe)"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.CharField(max_length=30, unique=True)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**AMOUNT)
    reason = models.CharField(max_length=30, choices=Reason.choices)
    memo = models.TextField(blank=True)
    refund_to = models.CharField(max_length=20, choices=RefundTo.choices, default=RefundTo.ACCOUNT_CREDIT)
    created_by = models.CharField(max_length=254)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="credit_note_amount_positive")]

    def __str__(self) -> str:
        return self.number
