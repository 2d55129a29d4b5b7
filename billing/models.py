"""The plan catalogue: what each plan allows. Prices, subscriptions and invoices come with the billing issue."""

from django.core.exceptions import ValidationError
from django.db import models

from tenants.models import Tenant


class Plan(models.Model):
    """A plan and its features: numeric limits (empty = unlimited) and flags."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    is_public = models.BooleanField(default=True, help_text="Shown on the pricing page; private plans are assigned.")
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    api_requests_per_minute_per_key = models.PositiveIntegerField(null=True, blank=True)
    api_requests_per_minute_per_tenant = models.PositiveIntegerField(null=True, blank=True)
    concurrent_ai_requests = models.PositiveIntegerField(null=True, blank=True)
    monthly_ai_token_allowance = models.PositiveBigIntegerField(default=0)
    seats = models.PositiveIntegerField(null=True, blank=True)
    custom_domains = models.PositiveIntegerField(default=0)

    team = models.BooleanField(default=False)
    sso = models.BooleanField(default=False)
    white_label = models.BooleanField(default=False)
    client_tenants = models.BooleanField(default=False, help_text="Agency: may create and manage client tenants.")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(api_requests_per_minute_per_key__gt=0)
                                   | models.Q(api_requests_per_minute_per_key__isnull=True),
                                   name="plan_key_rate_positive"),
            models.CheckConstraint(condition=models.Q(api_requests_per_minute_per_tenant__gt=0)
                                   | models.Q(api_requests_per_minute_per_tenant__isnull=True),
                                   name="plan_tenant_rate_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        per_key, per_tenant = self.api_requests_per_minute_per_key, self.api_requests_per_minute_per_tenant
        if per_key and per_tenant and per_key > per_tenant:
            raise ValidationError({"api_requests_per_minute_per_key": "A key cannot be allowed more than its tenant."})
        if self.white_label and not self.custom_domains:
            raise ValidationError({"custom_domains": "White-label needs at least one custom domain."})


class PlanQuota(models.Model):
    """A monthly cap on one meter. Soft: answered with a warning header; hard: refused once reached."""

    class Behaviour(models.TextChoices):
        SOFT = "soft", "Soft (warn)"
        HARD = "hard", "Hard (refuse)"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="quotas")
    # A meter code rather than a foreign key: the catalogue sits below metering and does not import it.
    meter_code = models.SlugField(max_length=50)
    monthly_limit = models.DecimalField(max_digits=20, decimal_places=4)
    behaviour = models.CharField(max_length=10, choices=Behaviour.choices, default=Behaviour.HARD)

    class Meta:
        ordering = ["plan", "meter_code"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "meter_code"], name="plan_quota_one_per_meter"),
            models.CheckConstraint(condition=models.Q(monthly_limit__gte=0), name="plan_quota_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.plan.code}: {self.meter_code} ≤ {self.monthly_limit} ({self.behaviour})"


class TenantPlan(models.Model):
    """Which plan a tenant is on. Set by ops in admin until subscriptions arrive with the billing issue."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="plan_assignment")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="assignments")
    assigned_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.tenant.slug} → {self.plan.code}"
