"""Tax rates ops configure, and each tenant's billing details (who the invoice is addressed to)."""

from django.db import models

from tenants.models import Tenant


class TaxRate(models.Model):
    """A rate that applies to tenants billed in a country (and region, when set): exclusive rates are added to
    the subtotal; inclusive rates are already inside the prices and shown as the part of the total they are."""

    name = models.CharField(max_length=60, help_text="e.g. VAT, GST, Sales tax.")
    percentage = models.DecimalField(max_digits=7, decimal_places=4)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2, e.g. DE.")
    region = models.CharField(max_length=10, blank=True, help_text="e.g. CA for California; empty: whole country.")
    inclusive = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["country", "region", "name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(percentage__gte=0, percentage__lt=100), name="tax_rate_range"),
            models.CheckConstraint(condition=models.Q(country__regex=r"^[A-Z]{2}$"), name="tax_rate_country_iso"),
            models.UniqueConstraint(fields=["country", "region"], condition=models.Q(is_active=True),
                                    name="tax_rate_one_active_per_place"),
        ]

    def __str__(self) -> str:
        place = f"{self.country}-{self.region}" if self.region else self.country
        return f"{self.name} {self.percentage.normalize()}% ({place})"


class BillingProfile(models.Model):
    """Who the tenant's invoices are addressed to, where it is taxed, and how it pays."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="billing_profile")
    legal_name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True, help_text="Where invoices go; the owners when empty.")
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    region = models.CharField(max_length=10, blank=True)
    country = models.CharField(max_length=2, blank=True)
    tax_id = models.CharField(max_length=40, blank=True, help_text="e.g. an EU VAT number: DE123456789.")
    tax_exempt = models.BooleanField(default=False)
    net_terms_days = models.PositiveSmallIntegerField(default=14)
    manual_collection_approved = models.BooleanField(
        default=False, help_text="Ops accept payment by bank transfer: counts as a payment method on file.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(country="") | models.Q(country__regex=r"^[A-Z]{2}$"),
                                   name="billing_profile_country_iso"),
        ]

    def __str__(self) -> str:
        return self.legal_name or str(self.tenant_id)
