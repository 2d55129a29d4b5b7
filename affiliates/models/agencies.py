from decimal import Decimal

from django.db import models

from affiliates.models.program import RATE


class AgencyProfile(models.Model):
    """How an agency earns from its clients (ops choose): referral (the client pays Tollgate, the agency earns a
    commission per paid client invoice) or reseller (consolidated billing at wholesale prices)."""

    class EarningsMode(models.TextChoices):
        REFERRAL = "referral", "Referral (commission on each paid client invoice)"
        RESELLER = "reseller", "Reseller (one consolidated wholesale invoice)"

    agency = models.OneToOneField("tenants.Tenant", on_delete=models.CASCADE, related_name="agency_profile")
    earnings_mode = models.CharField(max_length=20, choices=EarningsMode.choices, default=EarningsMode.REFERRAL)
    commission_rate = models.DecimalField(default=Decimal("10"), **RATE)
    wholesale_discount_percent = models.DecimalField(
        default=Decimal("20"), help_text="Reseller mode: off list prices on the consolidated invoice.", **RATE)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Agency profile of {self.agency_id} ({self.earnings_mode})"


class AgencyAccessGrant(models.Model):
    """A client's owner lets its agency's staff into the client's workspace with a role; revocable at any time.
    Without a current grant, the agency sees its client's plan and invoices, never its data."""

    client = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="agency_grants")
    agency = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="client_grants")
    role = models.CharField(max_length=20, default="admin", help_text="The role agency staff act with (accounts.Role).")
    granted_by = models.EmailField()
    granted_at = models.DateTimeField()
    revoked_by = models.EmailField(blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(fields=["client", "agency"], condition=models.Q(revoked_at__isnull=True),
                                    name="agency_grant_one_current"),
        ]


class AgencyHandoff(models.Model):
    """A signed, single-use hand-off of one agency staff member into a client's host (its hash stored; used once)."""

    grant = models.ForeignKey(AgencyAccessGrant, on_delete=models.CASCADE, related_name="handoffs")
    token_hash = models.CharField(max_length=64, unique=True)
    staff_email = models.EmailField()
    staff_mfa_verified = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
