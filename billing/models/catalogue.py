"""The catalogue: plans and what they allow, their prices and the usage charges of each price.

A price is immutable once a subscription uses it (services and admin refuse the change; ops create a new price
and migrate subscriptions to it), as in Stripe: an invoice can always be explained by the price it was rated on."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models

from config.money import Money, currency_minor_units
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
    coach_messages_per_day = models.PositiveIntegerField(
        null=True, blank=True, help_text="Coach chat messages a user may send a day; empty: COACH_MESSAGES_PER_DAY.")

    team = models.BooleanField(default=False)
    sso = models.BooleanField(default=False)
    white_label = models.BooleanField(default=False)
    client_tenants = models.BooleanField(default=False, help_text="Agency: may create and manage client tenants.")
    remove_powered_by = models.BooleanField(
        default=False, help_text="White-label: the brand may hide \"Powered by Tollgate\" (pages, emails, invoices).")
    contact_sales = models.BooleanField(
        default=False, help_text="Not self-serve: the pricing page offers \"contact sales\" instead of a price.")
    payment_method_required = models.BooleanField(
        default=False, help_text="A trial converts only when the tenant can pay; otherwise it expires to Free.")

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


class Price(models.Model):
    """What a plan costs on one interval in one currency: a fixed amount charged in advance, a per-seat amount
    beyond the included seats, and usage charges (UsageCharge) billed in arrears."""

    class Interval(models.TextChoices):
        MONTH = "month", "Monthly"
        QUARTER = "quarter", "Quarterly"
        YEAR = "year", "Yearly"

    INTERVAL_MONTHS = {Interval.MONTH: 1, Interval.QUARTER: 3, Interval.YEAR: 12}

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="prices")
    code = models.SlugField(max_length=60, unique=True, help_text="e.g. pro-month-usd. Used by the API and seeds.")
    currency = models.CharField(max_length=3, default="USD", help_text="ISO 4217, e.g. USD or EUR.")
    interval = models.CharField(max_length=10, choices=Interval.choices, default=Interval.MONTH)
    fixed_amount = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"),
                                       help_text="Charged at the start of each period.")
    per_seat_amount = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"),
                                          help_text="Per seat beyond the included seats, per period.")
    included_seats = models.PositiveIntegerField(default=1)
    trial_days = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True, help_text="Inactive prices cannot be chosen for new subscriptions.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan__sort_order", "plan__code", "currency", "interval"]
        constraints = [
            models.CheckConstraint(condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="price_currency_iso"),
            models.CheckConstraint(condition=models.Q(fixed_amount__gte=0, per_seat_amount__gte=0),
                                   name="price_amounts_not_negative"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def interval_months(self) -> int:
        return self.INTERVAL_MONTHS[self.interval]

    @property
    def fixed_money(self) -> Money:
        return Money(self.fixed_amount, self.currency)

    @property
    def per_seat_money(self) -> Money:
        return Money(self.per_seat_amount, self.currency)

    def clean(self) -> None:
        places = currency_minor_units(self.currency)
        for name in ("fixed_amount", "per_seat_amount"):
            value = getattr(self, name)
            if value is not None and value != value.quantize(Decimal(1).scaleb(-places)):
                raise ValidationError({name: f"{self.currency} has {places} decimal places."})


class UsageCharge(models.Model):
    """One metered part of a price, billed in arrears on the period just closed: the meter's quantity (divided by
    `divide_by`, to the micro-unit) beyond the included units, priced by a charge model (billing.charge_models),
    and at least `minimum_amount`."""

    class ChargeModel(models.TextChoices):
        STANDARD = "standard", "Standard"
        GRADUATED = "graduated", "Graduated"
        VOLUME = "volume", "Volume"
        PACKAGE = "package", "Package"
        PERCENTAGE = "percentage", "Percentage"
        GRADUATED_PERCENTAGE = "graduated_percentage", "Graduated percentage"

    price = models.ForeignKey(Price, on_delete=models.CASCADE, related_name="usage_charges")
    # A meter code rather than a foreign key: the catalogue sits below metering (billing's rating reads metering).
    meter_code = models.SlugField(max_length=50)
    name = models.CharField(max_length=100, help_text="What the invoice line says, e.g. \"API calls\".")
    unit_name = models.CharField(max_length=40, default="units", help_text="e.g. calls, hours, tokens.")
    charge_model = models.CharField(max_length=30, choices=ChargeModel.choices, default=ChargeModel.STANDARD)
    properties = models.JSONField(default=dict, help_text="The charge model's properties, amounts as decimal strings.")
    divide_by = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("1"),
                                    help_text="Bill the meter in bigger units, e.g. 3600 to bill seconds as hours.")
    included_units = models.DecimalField(max_digits=20, decimal_places=4, default=Decimal("0"),
                                         help_text="Free units per period, before the charge model applies.")
    minimum_amount = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"),
                                         help_text="The least this charge bills per period.")

    class Meta:
        ordering = ["price", "meter_code"]
        constraints = [
            models.UniqueConstraint(fields=["price", "meter_code"], name="usage_charge_one_per_meter"),
            models.CheckConstraint(condition=models.Q(included_units__gte=0, minimum_amount__gte=0, divide_by__gt=0),
                                   name="usage_charge_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.price.code}: {self.name} ({self.charge_model})"

    def clean(self) -> None:
        from billing.charge_models import ChargePropertiesInvalid, charge_properties_validate

        try:
            self.properties = charge_properties_validate(model=self.charge_model, properties=self.properties)
        except ChargePropertiesInvalid as error:
            where = f"{error.field}: " if error.field else ""
            raise ValidationError({"properties": f"{where}{error.message}"}) from error


class Product(models.Model):
    """A productized service sold once at a quoted price inside its range (a tenant asks with a brief; ops
    quote; the tenant accepts; a one-time invoice is issued)."""

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    currency = models.CharField(max_length=3, default="USD")
    min_amount = models.DecimalField(max_digits=14, decimal_places=4)
    max_amount = models.DecimalField(max_digits=14, decimal_places=4)
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(min_amount__gt=0, max_amount__gte=models.F("min_amount")),
                                   name="product_price_range_valid"),
            models.CheckConstraint(condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="product_currency_iso"),
        ]

    def __str__(self) -> str:
        return self.name
