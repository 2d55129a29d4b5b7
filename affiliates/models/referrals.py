from django.db import models

from affiliates.models.program import MONEY, Affiliate


class ReferralClick(models.Model):
    """A visit with a valid referral code. Written in batches from a buffer (see affiliates.clicks), never one row
    per request on the hot path; `click_id` is what the signed cookie carries."""

    class UserAgentClass(models.TextChoices):
        DESKTOP = "desktop", "Desktop"
        MOBILE = "mobile", "Mobile"
        TABLET = "tablet", "Tablet"
        OTHER = "other", "Other"

    click_id = models.UUIDField(unique=True)
    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="clicks")
    landing_path = models.CharField(max_length=500)
    referrer = models.CharField(max_length=500, blank=True)
    ip_hash = models.CharField(max_length=64, db_index=True)
    network_hash = models.CharField(max_length=64, blank=True, help_text="The /24 (IPv4) or /48 (IPv6) network.")
    device_hash = models.CharField(max_length=64, blank=True, help_text="The first-party device cookie, hashed.")
    user_agent_class = models.CharField(max_length=10, choices=UserAgentClass.choices)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["affiliate", "created_at"], name="referral_click_affil_idx")]


class Referral(models.Model):
    """A tenant bound to the affiliate who brought it, once and for ever (one row per tenant at most), and where
    that tenant is now."""

    class Source(models.TextChoices):
        CLICK = "click", "Referral link"
        PROMOTION_CODE = "promotion_code", "Promotion code"
        TENANT_LINK = "tenant_link", "Another tenant's link"
        AGENCY = "agency", "Created by its agency"

    class Status(models.TextChoices):
        SIGNED_UP = "signed_up", "Signed up"
        TRIALING = "trialing", "Trialing"
        PAYING = "paying", "Paying"
        CHURNED = "churned", "Churned"

    tenant = models.OneToOneField("tenants.Tenant", on_delete=models.CASCADE, related_name="referral")
    affiliate = models.ForeignKey(Affiliate, on_delete=models.PROTECT, related_name="referrals")
    click = models.ForeignKey(ReferralClick, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=20, choices=Source.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SIGNED_UP, db_index=True)
    signup_ip_hash = models.CharField(max_length=64, blank=True)
    signup_network_hash = models.CharField(max_length=64, blank=True)
    signup_device_hash = models.CharField(max_length=64, blank=True)
    owner_email = models.EmailField(blank=True)
    created_at = models.DateTimeField()
    first_paid_at = models.DateTimeField(null=True, blank=True)
    churned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["affiliate", "status"], name="referral_affil_status_idx")]

    def __str__(self) -> str:
        return f"{self.tenant_id} referred by {self.affiliate_id}"


class TenantReferralReward(models.Model):
    """What a referring tenant earns when the tenant it referred first pays: once per referred tenant."""

    class Kind(models.TextChoices):
        CREDIT = "credit", "Account credit"
        TOKENS = "tokens", "AI-token grant"

    class Status(models.TextChoices):
        GRANTED = "granted", "Granted"
        EXPIRED = "expired", "Expired unused"
        REFUSED = "refused", "Refused (a limit)"

    referrer = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="referral_rewards")
    referral = models.OneToOneField(Referral, on_delete=models.CASCADE, related_name="reward")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.DecimalField(default=0, **MONEY)
    currency = models.CharField(max_length=3, default="USD")
    tokens = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=20, choices=Status.choices)
    reason = models.CharField(max_length=300, blank=True)
    invoice = models.ForeignKey("billing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at"]
