"""Reseller mode (consolidated billing): a client tenant whose invoices are billed to a payer (its reseller
agency) at wholesale prices instead of to the client. billing.consolidation reads and writes these rows; billing
knows nothing of agencies, the affiliates app starts and ends the arrangements."""

from django.db import models

from tenants.models import Tenant

PERCENT = {"max_digits": 7, "decimal_places": 4}


class ConsolidatedBilling(models.Model):
    """From `started_at` until `ended_at`, the client's invoices are finalised as consolidated (never charged to,
    nor emailed to, the client) and carried onto the payer's consolidated invoice at the list amount less
    `wholesale_discount_percent`. Ended rows stay: the invoices finalised under a row are carried to its payer,
    whoever pays for the client later. At most one current row per client."""

    client = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="consolidated_billings")
    payer = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="consolidated_clients")
    wholesale_discount_percent = models.DecimalField(**PERCENT)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["client"], condition=models.Q(ended_at__isnull=True),
                                    name="consolidated_billing_one_current"),
            models.CheckConstraint(condition=~models.Q(client=models.F("payer")),
                                   name="consolidated_billing_not_own_payer"),
            models.CheckConstraint(condition=models.Q(wholesale_discount_percent__gte=0,
                                                      wholesale_discount_percent__lte=100),
                                   name="consolidated_billing_discount_percent"),
        ]
        indexes = [models.Index(fields=["payer"], condition=models.Q(ended_at__isnull=True),
                                name="consolidated_billing_payer_idx")]

    def __str__(self) -> str:
        return f"{self.client_id} billed through {self.payer_id}"
