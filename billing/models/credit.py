"""Account credit: money a tenant holds with the operator (credit notes and promotions add, invoices consume).
A cached balance per tenant and currency plus its immutable ledger, like the AI-token wallet; never negative."""

from django.db import models

from billing.models.invoices import AMOUNT, CreditNote, Invoice
from tenants.models import Tenant


class AccountCredit(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    balance = models.DecimalField(default=0, **AMOUNT)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "currency"], name="account_credit_one_per_currency"),
            models.CheckConstraint(condition=models.Q(balance__gte=0), name="account_credit_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.balance} {self.currency}"


class AccountCreditEntry(models.Model):
    class Kind(models.TextChoices):
        CREDIT_NOTE = "credit_note", "Credit note"
        PROMOTION = "promotion", "Promotion"
        ADJUSTMENT = "adjustment", "Adjustment by ops"
        INVOICE = "invoice", "Applied to an invoice"
        INVOICE_VOIDED = "invoice_voided", "Returned from a voided invoice"

    account = models.ForeignKey(AccountCredit, on_delete=models.PROTECT, related_name="entries")
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = models.DecimalField(**AMOUNT, help_text="Positive adds to the balance, negative consumes it.")
    balance_after = models.DecimalField(**AMOUNT)
    description = models.CharField(max_length=300)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    credit_note = models.ForeignKey(CreditNote, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_by = models.CharField(max_length=254)
    created_at = models.DateTimeField()
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True,
                                       help_text="One entry per key: a form submitted twice writes once.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="account_credit_entry_not_zero"),
            models.CheckConstraint(condition=models.Q(balance_after__gte=0),
                                   name="account_credit_entry_balance_not_negative"),
            # An invoice consumes credit once; a credit note adds it once.
            models.UniqueConstraint(fields=["invoice", "kind"], condition=models.Q(invoice__isnull=False),
                                    name="account_credit_entry_once_per_invoice"),
            models.UniqueConstraint(fields=["credit_note"], condition=models.Q(credit_note__isnull=False),
                                    name="account_credit_entry_once_per_credit_note"),
        ]
        indexes = [models.Index(fields=["tenant", "created_at"], name="credit_entry_tenant_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"
