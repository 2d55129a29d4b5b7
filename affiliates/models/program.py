from decimal import Decimal

from django.conf import settings
from django.db import models

MONEY = {"max_digits": 14, "decimal_places": 4}
RATE = {"max_digits": 6, "decimal_places": 3}  # a percentage, e.g. 10.000


class CommissionType(models.TextChoices):
    RECURRING = "recurring", "Recurring, forever"
    RECURRING_MONTHS = "recurring_months", "Recurring for N months"
    ONE_TIME = "one_time", "One time, on the first payment"
    SCHEME = "scheme", "Scheme (e.g. 40 % for 3 months, then 20 %)"


class AffiliateProgram(models.Model):
    """The program's rules, edited by ops: one row (code "default"). An affiliate may override the rate and type."""

    class Attribution(models.TextChoices):
        FIRST_TOUCH = "first_touch", "First touch (the first click in the window wins)"
        LAST_TOUCH = "last_touch", "Last touch (the latest click in the window wins)"

    class PayoutCycle(models.TextChoices):
        MONTHLY = "monthly", "Monthly"

    class ReferrerReward(models.TextChoices):
        CREDIT = "credit", "Account credit"
        TOKENS = "tokens", "AI-token grant"

    code = models.SlugField(max_length=30, unique=True, default="default")
    commission_rate = models.DecimalField(default=Decimal("10"), help_text="Percent of the paid amount before tax.",
                                          **RATE)
    commission_type = models.CharField(max_length=20, choices=CommissionType.choices,
                                       default=CommissionType.RECURRING)
    recurring_months = models.PositiveSmallIntegerField(null=True, blank=True,
                                                        help_text="For 'recurring for N months'.")
    scheme = models.JSONField(default=list, blank=True,
                              help_text='For a scheme: [{"months": 3, "rate": "40"}, {"months": null, "rate": "20"}].')
    cookie_days = models.PositiveSmallIntegerField(default=60)
    attribution = models.CharField(max_length=20, choices=Attribution.choices, default=Attribution.FIRST_TOUCH)
    holding_days = models.PositiveSmallIntegerField(default=30, help_text="Pending before payable: the refund window.")
    payout_threshold = models.DecimalField(default=Decimal("50"), **MONEY)
    payout_currency = models.CharField(max_length=3, default="USD")
    payout_cycle = models.CharField(max_length=20, choices=PayoutCycle.choices, default=PayoutCycle.MONTHLY)
    min_paying_customers = models.PositiveSmallIntegerField(
        default=1, help_text="Paying customers an affiliate needs before their first payout.")
    manual_approval_above = models.DecimalField(
        null=True, blank=True, help_text="Commissions above this amount wait for an ops approval.", **MONEY)
    refund_rate_flag_percent = models.DecimalField(default=Decimal("25"), **RATE)
    # Tenant referrals (every tenant's own link).
    referred_coupon = models.ForeignKey("billing.Coupon", null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+", help_text="The discount a tenant-referred signup gets.")
    referrer_reward = models.CharField(max_length=10, choices=ReferrerReward.choices, default=ReferrerReward.CREDIT)
    referrer_reward_amount = models.DecimalField(default=Decimal("20"), help_text="Account credit, in USD.", **MONEY)
    referrer_reward_tokens = models.PositiveBigIntegerField(default=1_000_000)
    referrer_rewards_per_year = models.PositiveSmallIntegerField(default=12)
    referral_min_first_payment = models.DecimalField(default=Decimal("10"), **MONEY)
    referral_reward_expiry_days = models.PositiveSmallIntegerField(default=365)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Affiliate program {self.code}"


class AffiliateApplication(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    name = models.CharField(max_length=150)
    email = models.EmailField()
    website = models.URLField(blank=True)
    promotion = models.TextField(help_text="How they promote.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    ip_hash = models.CharField(max_length=64, blank=True)
    reviewed_by = models.CharField(max_length=254, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["email"], condition=models.Q(status="pending"),
                                    name="affiliate_application_one_pending_per_email"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}> ({self.status})"


class Affiliate(models.Model):
    """Whoever earns from referrals: an approved affiliate (a public-schema user who is neither ops nor staff), a
    tenant (its own referral link, rewarded by tenant referrals) or an agency (in referral mode, commissions on its
    clients' invoices through the same engine)."""

    class Kind(models.TextChoices):
        AFFILIATE = "affiliate", "Affiliate"
        TENANT = "tenant", "Tenant referral"
        AGENCY = "agency", "Agency"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    class PayoutMethod(models.TextChoices):
        PAYPAL = "paypal", "PayPal (CSV export)"
        WISE = "wise", "Wise (CSV export)"
        STRIPE_CONNECT = "stripe_connect", "Stripe Connect transfer"

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.AFFILIATE)
    code = models.SlugField(max_length=40, unique=True, help_text="The referral code in ?ref= and /r/.")
    name = models.CharField(max_length=150)
    email = models.EmailField()
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="affiliate")
    tenant = models.OneToOneField("tenants.Tenant", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="referrer_account")
    application = models.OneToOneField(AffiliateApplication, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="affiliate")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    website = models.URLField(blank=True)
    commission_rate = models.DecimalField(null=True, blank=True, help_text="Overrides the program's rate.", **RATE)
    commission_type = models.CharField(max_length=20, choices=CommissionType.choices, blank=True,
                                       help_text="Overrides the program's type (empty: the program's).")
    recurring_months = models.PositiveSmallIntegerField(null=True, blank=True)
    scheme = models.JSONField(default=list, blank=True)
    stripe_promotion_code_id = models.CharField(max_length=255, blank=True)
    promotion_code = models.CharField(max_length=100, blank=True, help_text="The code customers type.")
    stripe_connect_account_id = models.CharField(max_length=255, blank=True)
    payout_method = models.CharField(max_length=20, choices=PayoutMethod.choices, default=PayoutMethod.PAYPAL)
    payout_email = models.EmailField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(kind="affiliate", tenant__isnull=True)
                           | models.Q(kind__in=["tenant", "agency"], tenant__isnull=False)),
                name="affiliate_tenant_matches_kind"),
            models.UniqueConstraint(fields=["promotion_code"], condition=~models.Q(promotion_code=""),
                                    name="affiliate_promotion_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
