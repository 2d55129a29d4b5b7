from django.db import models


class ResellerPrice(models.Model):
    """What a reseller agency charges its clients for a plan (at or above the wholesale price, in its currency)."""

    agency = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="reseller_prices")
    plan = models.ForeignKey("billing.Plan", on_delete=models.PROTECT, related_name="+")
    interval = models.CharField(max_length=10, default="month")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=14, decimal_places=4)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["agency", "plan", "interval"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "plan", "interval", "currency"], name="reseller_price_once"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="reseller_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} at {self.amount} {self.currency}/{self.interval} by {self.agency_id}"
