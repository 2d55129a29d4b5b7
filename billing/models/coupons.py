"""Coupons (what discount, for how long), the promotion codes customers type, and each redemption: the discount a
subscription carries while it lasts."""

from django.db import models

from billing.models.catalogue import Plan
from billing.models.subscriptions import Subscription
from tenants.models import Tenant


class Coupon(models.Model):
    """A percentage or a fixed amount off the invoice's subscription lines (before tax), once, for N billing
    periods, or forever, optionally restricted to plans."""

    class Duration(models.TextChoices):
        ONCE = "once", "Once"
        REPEATING = "repeating", "For a number of periods"
        FOREVER = "forever", "Forever"

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=100, help_text="What the invoice line says, e.g. \"Launch 20% off\".")
    percent_off = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    amount_off = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, help_text="Required with an amount off.")
    duration = models.CharField(max_length=10, choices=Duration.choices, default=Duration.ONCE)
    duration_periods = models.PositiveSmallIntegerField(null=True, blank=True,
                                                        help_text="Billing periods, for a repeating coupon.")
    redeem_by = models.DateTimeField(null=True, blank=True)
    max_redemptions = models.PositiveIntegerField(null=True, blank=True)
    times_redeemed = models.PositiveIntegerField(default=0)
    plans = models.ManyToManyField(Plan, blank=True, related_name="+", help_text="Empty: any plan.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(percent_off__gt=0, percent_off__lte=100, amount_off__isnull=True, currency="")
                           | models.Q(percent_off__isnull=True, amount_off__gt=0, currency__regex=r"^[A-Z]{3}$")),
                name="coupon_percent_xor_amount"),
            models.CheckConstraint(
                condition=(models.Q(duration="repeating", duration_periods__gte=1)
                           | (~models.Q(duration="repeating") & models.Q(duration_periods__isnull=True))),
                name="coupon_periods_iff_repeating"),
            models.CheckConstraint(
                condition=models.Q(max_redemptions__isnull=True)
                | models.Q(times_redeemed__lte=models.F("max_redemptions")),
                name="coupon_redemptions_within_limit"),
        ]

    def __str__(self) -> str:
        return self.name


class PromotionCode(models.Model):
    """A code a customer types (stored upper-case) that redeems a coupon, with its own expiry and limit."""

    code = models.CharField(max_length=40, unique=True)
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="promotion_codes")
    first_subscription_only = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    max_redemptions = models.PositiveIntegerField(null=True, blank=True)
    times_redeemed = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(code__regex=r"^[A-Z0-9_-]+$"), name="promotion_code_upper"),
            models.CheckConstraint(
                condition=models.Q(max_redemptions__isnull=True)
                | models.Q(times_redeemed__lte=models.F("max_redemptions")),
                name="promotion_code_redemptions_within_limit"),
        ]

    def __str__(self) -> str:
        return self.code


class CouponRedemption(models.Model):
    """A coupon applied to a subscription: the discount its invoices carry while `periods_left` lasts (None:
    forever). At most one discount is active on a subscription at a time."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="redemptions")
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions")
    promotion_code = models.ForeignKey(PromotionCode, on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="redemptions")
    periods_left = models.PositiveSmallIntegerField(null=True, blank=True)
    redeemed_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    redeemed_by = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["-redeemed_at"]
        constraints = [
            models.UniqueConstraint(fields=["subscription"], condition=models.Q(ended_at__isnull=True),
                                    name="coupon_redemption_one_active_per_subscription"),
        ]

    def __str__(self) -> str:
        return f"{self.coupon.code} on {self.subscription_id}"
