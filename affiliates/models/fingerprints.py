from django.db import models

from affiliates.models.program import Affiliate


class AffiliateFingerprint(models.Model):
    """An IP address or device cookie (hashed, as affiliates.fingerprints hashes them) the affiliate itself used:
    signing in or using the portal on the public host. A referred signup from one of them is the affiliate signing
    up itself (affiliates.fraud.rules.self_referral_reason). Only the most recent few per kind are kept."""

    class Kind(models.TextChoices):
        IP = "ip", "IP address"
        DEVICE = "device", "Device"

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="fingerprints")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    hash = models.CharField(max_length=64)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(fields=["affiliate", "kind", "hash"], name="affiliate_fingerprint_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.affiliate_id} {self.kind} {self.hash[:12]}"
