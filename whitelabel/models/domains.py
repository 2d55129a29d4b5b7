from django.db import models

# A claim that still holds its hostname: nobody else may claim it (see CustomDomain's constraint).
HOLDING_STATUSES = ("pending", "verified", "active", "failing")
# A claim whose hostname routes to its tenant (a tenants.Domain row); held but not routed is "not ready".
ROUTED_STATUSES = ("active", "failing")


class CustomDomain(models.Model):
    """A hostname a tenant brings (portal.agency.com, or an apex). Proven with a TXT record carrying this claim's
    token, pointed with a CNAME to <slug>.CUSTOM_DOMAIN_TARGET; re-checked daily.

    pending → verified (TXT matches and the host resolves to us) → active (routed; a certificate exists or
    on-demand TLS is on) → failing (a re-check failed; staff told) → released after 7 days failing; or removed by
    the tenant; or `expired` when left unverified for 7 days and claimed by another tenant who proves it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending verification"
        VERIFIED = "verified", "Verified"
        ACTIVE = "active", "Active"
        FAILING = "failing", "Failing"
        RELEASED = "released", "Released (failing too long)"
        REMOVED = "removed", "Removed"
        EXPIRED = "expired", "Expired (claimed by another tenant)"

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="custom_domains")
    hostname = models.CharField(max_length=253)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    verification_token = models.CharField(max_length=64)
    last_check = models.JSONField(default=dict, blank=True, help_text="What the last check found, record by record.")
    last_checked_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField()
    verified_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="Released, removed or expired.")

    class Meta:
        ordering = ["hostname"]
        constraints = [
            models.UniqueConstraint(fields=["hostname"], condition=models.Q(status__in=HOLDING_STATUSES),
                                    name="custom_domain_held_once"),
            models.CheckConstraint(condition=models.Q(hostname=models.functions.Lower("hostname")),
                                   name="custom_domain_lowercase"),
        ]

    def __str__(self) -> str:
        return f"{self.hostname} ({self.status})"


class SenderDomain(models.Model):
    """The domain a brand sends its emails from, once its DKIM, SPF and DMARC records are verified."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending verification"
        VERIFIED = "verified", "Verified"
        FAILING = "failing", "Failing"

    brand = models.OneToOneField("whitelabel.Brand", on_delete=models.CASCADE, related_name="sender_domain")
    domain = models.CharField(max_length=253)
    dkim_selector = models.CharField(max_length=63, default="tollgate")
    dkim_public_key = models.TextField(help_text="The p= value of the DKIM record to publish.")
    dkim_private_key = models.TextField(help_text="Kept to sign; never shown.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    last_check = models.JSONField(default=dict, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.domain} ({self.status})"
