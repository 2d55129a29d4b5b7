"""Requests for productized services and the quotes ops answer them with."""

from django.db import models

from billing.models.catalogue import Product
from billing.models.invoices import AMOUNT, Invoice
from tenants.models import Tenant


class ServiceQuote(models.Model):
    """A tenant's request for a product (with its brief), ops' quote at a fixed price inside the product's range,
    and the tenant's answer. Accepting issues the one-time invoice."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        QUOTED = "quoted", "Quoted"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="quotes")
    brief = models.TextField()
    requested_by = models.CharField(max_length=254)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REQUESTED)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(null=True, blank=True, **AMOUNT)
    quote_note = models.TextField(blank=True)
    quoted_by = models.CharField(max_length=254, blank=True)
    quoted_at = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status="requested") | models.Q(status="withdrawn", amount=None)
                                   | models.Q(amount__gt=0), name="service_quote_amount_when_quoted"),
            models.CheckConstraint(condition=~models.Q(status="accepted") | models.Q(invoice__isnull=False),
                                   name="service_quote_accepted_has_invoice"),
        ]
        indexes = [models.Index(fields=["tenant", "created_at"], name="service_quote_tenant_idx")]

    def __str__(self) -> str:
        return f"{self.product.code} for {self.tenant_id} ({self.status})"
