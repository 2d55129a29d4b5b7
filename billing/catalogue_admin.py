"""Ops admin for the catalogue (public host only): plans with their quotas and prices, prices with their usage
charges (and a "try it" page per charge), products, tax rates, coupons with their redemptions, promotion codes,
billing profiles, and which plan each tenant is assigned.

Validation is the models' own (`Plan.clean`, `Price.clean`, `UsageCharge.clean` through
billing.charge_models, and the constraints, all run by the ModelForms). A price in use by a subscription is
immutable but for `is_active`, and so are its usage charges: as in Stripe, a change is a new price, so every
invoice can be explained by the price it was rated on; a price's page moves its subscriptions to another price
through billing.subscriptions.services."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from billing.charge_models import ChargeError, charge_amount
from billing.errors import BillingError
from billing.invoicing.documents import breakdown_text
from billing.models import (
    CURRENT_STATUSES,
    BillingProfile,
    Coupon,
    CouponRedemption,
    Plan,
    PlanQuota,
    Price,
    Product,
    PromotionCode,
    Subscription,
    TaxRate,
    TenantPlan,
    UsageCharge,
)
from billing.services import tenant_plan_assign
from billing.subscriptions.services import subscription_change
from config.admin import ReadOnlyAdminMixin
from config.money import Money, money_format, money_round

UNLIMITED = "unlimited"
PRICE_FIELDS = ["plan", "code", "currency", "interval", "fixed_amount", "per_seat_amount", "included_seats",
                "trial_days", "is_active", "created_at"]
CHARGE_FIELDS = ["meter_code", "name", "unit_name", "charge_model", "properties", "divide_by", "included_units",
                 "minimum_amount"]
# A coupon's terms: once redeemed, changing them would rewrite the discount running subscriptions were given.
COUPON_TERMS = ["percent_off", "amount_off", "currency", "duration", "duration_periods"]
# The most event values the "try it" page prices at once (it is a calculator, not a billing run).
MAX_TRY_EVENTS = 1000


def _limit_display(value: int | None) -> str:
    # An empty limit means no limit: the admin's usual "-" would read as "none allowed".
    return UNLIMITED if value is None else f"{value:,}"


def price_in_use(price: Price) -> bool:
    """Whether a subscription is on the price or scheduled to move to it: then the price must not change."""
    return Subscription.objects.filter(Q(price=price) | Q(scheduled_price=price)).exists()


# --- Plans ------------------------------------------------------------------------------------------------------

class PlanQuotaInline(admin.TabularInline):
    model = PlanQuota
    extra = 0
    fields = ["meter_code", "monthly_limit", "behaviour"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "meter_code":
            # A code rather than a foreign key (the catalogue does not import metering): say where codes come from.
            field.help_text = "The code of a meter (Metering › Meters), e.g. api_calls."
        return field


class PlanPriceInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The plan's prices, listed only: each is edited (or replaced) on its own page, where the in-use rule lives."""

    model = Price
    fields = ["code", "currency", "interval", "fixed_display", "per_seat_display", "included_seats", "trial_days",
              "is_active"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    verbose_name_plural = "prices (open one to edit it; add prices under Billing › Prices)"

    @admin.display(description="Fixed")
    def fixed_display(self, price: Price) -> str:
        return money_format(price.fixed_money)

    @admin.display(description="Per extra seat")
    def per_seat_display(self, price: Price) -> str:
        return money_format(price.per_seat_money)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_public", "is_active", "sort_order", "key_rate", "tenant_rate",
                    "concurrent_ai", "monthly_ai_token_allowance", "seat_limit", "flags"]
    list_display_links = ["code", "name"]
    list_filter = ["is_public", "is_active", "team", "white_label", "client_tenants"]
    search_fields = ["code", "name"]
    ordering = ["sort_order", "code"]
    inlines = [PlanQuotaInline, PlanPriceInline]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["code", "name", "description", "is_public", "is_active", "sort_order"]}),
        ("Limits (empty = unlimited)", {"fields": [
            "api_requests_per_minute_per_key", "api_requests_per_minute_per_tenant", "concurrent_ai_requests",
            "monthly_ai_token_allowance", "seats", "custom_domains",
            "coach_messages_per_day"]}),
        ("Features", {"fields": ["team", "sso", "white_label", "client_tenants", "contact_sales",
                                 "payment_method_required"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Plan | None = None) -> list[str]:
        # The code is how the default plan and the seeds find a plan: renaming it would silently break them.
        return [*self.readonly_fields, "code"] if obj else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Plan | None = None) -> bool:
        # Plans are deactivated, never deleted: tenants, subscriptions and invoices point at them.
        return False

    @admin.display(description="Req/min per key", ordering="api_requests_per_minute_per_key")
    def key_rate(self, plan: Plan) -> str:
        return _limit_display(plan.api_requests_per_minute_per_key)

    @admin.display(description="Req/min per tenant", ordering="api_requests_per_minute_per_tenant")
    def tenant_rate(self, plan: Plan) -> str:
        return _limit_display(plan.api_requests_per_minute_per_tenant)

    @admin.display(description="Concurrent AI", ordering="concurrent_ai_requests")
    def concurrent_ai(self, plan: Plan) -> str:
        return _limit_display(plan.concurrent_ai_requests)

    @admin.display(description="Seats", ordering="seats")
    def seat_limit(self, plan: Plan) -> str:
        return _limit_display(plan.seats)

    @admin.display(description="Features")
    def flags(self, plan: Plan) -> str:
        names = [name for name, on in [("team", plan.team), ("SSO", plan.sso), ("white-label", plan.white_label),
                                       ("client tenants", plan.client_tenants)] if on]
        return ", ".join(names) or "-"


class TenantPlanForm(forms.ModelForm):
    class Meta:
        model = TenantPlan
        fields = ["tenant", "plan"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Inactive plans are no longer handed out, but an assignment keeps showing the plan it already has.
        self.fields["plan"].queryset = Plan.objects.filter(Q(is_active=True) | Q(pk=self.instance.plan_id))


@admin.register(TenantPlan)
class TenantPlanAdmin(admin.ModelAdmin):
    list_display = ["tenant", "plan", "assigned_at"]
    form = TenantPlanForm
    list_filter = ["plan"]
    search_fields = ["tenant__slug", "tenant__name"]
    list_select_related = ["tenant", "plan"]
    autocomplete_fields = ["tenant"]
    date_hierarchy = "assigned_at"
    ordering = ["tenant__name"]

    def get_readonly_fields(self, request: HttpRequest, obj: TenantPlan | None = None) -> list[str]:
        # An assignment belongs to its tenant; moving it to another tenant would be a second assignment.
        return ["tenant", "assigned_at"] if obj else ["assigned_at"]

    def has_delete_permission(self, request: HttpRequest, obj: TenantPlan | None = None) -> bool:
        # Every tenant is on a plan: move it to Free rather than leave it on whatever the default becomes.
        return False

    def save_model(self, request: HttpRequest, obj: TenantPlan, form: forms.ModelForm, change: bool) -> None:
        assignment = tenant_plan_assign(tenant=obj.tenant, plan=obj.plan)
        obj.pk, obj.assigned_at = assignment.pk, assignment.assigned_at
        obj._state.adding = False


# --- Prices and usage charges -------------------------------------------------------------------------------------

class UsageChargeInline(admin.StackedInline):
    """A price's usage charges. Properties are validated per charge model by UsageCharge.clean (and stored
    normalised); once the price is in use they are read-only, like the price."""

    model = UsageCharge
    extra = 0
    fields = [*CHARGE_FIELDS, "try_link"]
    readonly_fields = ["try_link"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "meter_code":
            field.help_text = "The code of a meter (Metering › Meters), e.g. api_calls."
        if db_field.name == "properties":
            field.help_text = ('JSON with decimal strings, e.g. {"unit_amount": "0.002"} (standard) or '
                               '{"amount": "5.00", "package_size": "1000", "free_units": "0"} (package). '
                               "See billing/charge_models.py for every model.")
        return field

    def has_change_permission(self, request: HttpRequest, obj: Price | None = None) -> bool:
        # View-only: the admin shows every field read-only and ignores whatever a POST says about them.
        return not (obj is not None and price_in_use(obj)) and super().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Price | None = None) -> bool:
        return not (obj is not None and price_in_use(obj)) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Price | None = None) -> bool:
        return not (obj is not None and price_in_use(obj)) and super().has_delete_permission(request, obj)

    @admin.display(description="Try it")
    def try_link(self, charge: UsageCharge) -> str:
        if charge.pk is None:
            return "Save the price first."
        return format_html('<a href="{}">What would a quantity cost?</a>',
                           reverse("admin:billing_price_try_charge", args=[charge.price_id, charge.pk]))


class InUseFilter(admin.SimpleListFilter):
    title = "in use"
    parameter_name = "in_use"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("yes", "Yes (read-only)"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Price]) -> QuerySet[Price]:
        if self.value() in ("yes", "no"):
            return queryset.filter(in_use=self.value() == "yes")
        return queryset


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin):
    list_display = ["code", "plan", "currency", "interval", "fixed_display", "per_seat_display", "included_seats",
                    "trial_days", "is_active", "in_use_display"]
    list_filter = ["plan", "currency", "interval", "is_active", InUseFilter]
    search_fields = ["code", "plan__code", "plan__name"]
    list_select_related = ["plan"]
    inlines = [UsageChargeInline]
    fields = PRICE_FIELDS
    readonly_fields = ["created_at"]
    change_form_template = "billing/admin/price_change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Price]:
        used = Subscription.objects.filter(Q(price=OuterRef("pk")) | Q(scheduled_price=OuterRef("pk")))
        return super().get_queryset(request).annotate(in_use=Exists(used))

    def get_readonly_fields(self, request: HttpRequest, obj: Price | None = None) -> list[str]:
        if obj is not None and price_in_use(obj):
            # Stripe's rule: a price a subscription pays is never rewritten. Deactivating it stops new ones.
            return [name for name in PRICE_FIELDS if name != "is_active"]
        # The code is how the API and the seeds find a price.
        return [*self.readonly_fields, "code"] if obj else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Price | None = None) -> bool:
        # Deactivate a price instead: subscriptions, schedules and invoice lines point at it and its charges.
        return False

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        price = self.get_object(request, unquote(object_id))
        extra_context = {**(extra_context or {}), "price_in_use": price is not None and price_in_use(price)}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Fixed", ordering="fixed_amount")
    def fixed_display(self, price: Price) -> str:
        return money_format(price.fixed_money)

    @admin.display(description="Per extra seat", ordering="per_seat_amount")
    def per_seat_display(self, price: Price) -> str:
        return money_format(price.per_seat_money)

    @admin.display(description="In use", boolean=True, ordering="in_use")
    def in_use_display(self, price: Price) -> bool:
        return price.in_use

    def get_urls(self) -> list[URLPattern]:
        try_charge = path("<path:object_id>/charges/<int:charge_id>/try/",
                          self.admin_site.admin_view(self.try_charge_view), name="billing_price_try_charge")
        migrate = path("<path:object_id>/migrate/", self.admin_site.admin_view(self.migrate_view),
                       name="billing_price_migrate")
        return [try_charge, migrate, *super().get_urls()]

    def migrate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Move every current subscription on this price to another one, each through subscription_change (the
        same rules as a tenant's change: an upgrade at once and prorated, a downgrade at the period's end unless
        forced). Those the service refuses stay where they are and are listed."""
        price = self.get_object(request, unquote(object_id))
        if price is None:
            raise Http404("No such price.")
        if not self.has_change_permission(request, price):
            raise PermissionDenied
        subscriptions = (Subscription.objects.filter(price=price, status__in=CURRENT_STATUSES)
                         .select_related("tenant").order_by("pk"))
        form = PriceMigrateForm(request.POST or None, price=price)
        if request.method == "POST" and form.is_valid():
            moved, refusals = 0, []
            for subscription in subscriptions:
                try:
                    subscription_change(subscription=subscription, price=form.cleaned_data["target"],
                                        actor=request.user.email, now=timezone.now(),
                                        force_now=form.cleaned_data["force_now"], allow_private=True)
                    moved += 1
                except BillingError as error:
                    refusals.append(f"{subscription.tenant}: {error.message}")
            if moved:
                self.message_user(request, f"Moved {moved} subscription(s) to {form.cleaned_data['target']} (or "
                                           f"scheduled at their period's end).", messages.SUCCESS)
            for refusal in refusals:
                self.message_user(request, refusal, messages.WARNING)
            return HttpResponseRedirect(reverse("admin:billing_price_change", args=[price.pk]))
        return TemplateResponse(request, "billing/admin/object_form.html", {
            **self.admin_site.each_context(request),
            "title": f"Move the subscriptions on {price} to another price",
            "opts": self.model._meta,
            "original": price,
            "intro": f"{subscriptions.count()} current subscription(s) are on {price}. Each changes as if its "
                     f"tenant had chosen the new price: an upgrade at once with prorations, a downgrade at the "
                     f"period's end unless applied now; paused or canceling ones are refused and listed.",
            "form": form,
            "submit_label": "Move the subscriptions",
        }, status=400 if form.errors else 200)

    def try_charge_view(self, request: HttpRequest, object_id: str, charge_id: int) -> HttpResponse:
        price = self.get_object(request, unquote(object_id))
        if price is None:
            raise Http404("No such price.")
        if not self.has_view_permission(request, price):
            raise PermissionDenied
        charge = UsageCharge.objects.filter(price=price, pk=charge_id).first()
        if charge is None:
            raise Http404("No such usage charge on this price.")
        percentage = charge.charge_model == UsageCharge.ChargeModel.PERCENTAGE
        form = ChargeTryForm(request.POST or None, percentage=percentage)
        result = None
        if request.method == "POST" and form.is_valid():
            try:
                result = _charge_try(charge, quantity=form.cleaned_data.get("quantity"),
                                     event_values=form.cleaned_data.get("event_values"))
            except ChargeError as error:
                form.add_error(None, error.message)
        return TemplateResponse(request, "billing/admin/usage_charge_try.html", {
            **self.admin_site.each_context(request),
            "title": f"Try {charge.name}",
            "opts": self.model._meta,
            "original": price,
            "charge": charge,
            "intro": _try_intro(charge),
            "form": form,
            "submit_label": "Price it",
            "result": result,
        }, status=400 if form.errors else 200)


class PriceMigrateForm(forms.Form):
    target = forms.ModelChoiceField(queryset=Price.objects.none(), label="New price",
                                    help_text="An active price in the same currency.")
    force_now = forms.BooleanField(required=False, label="Apply downgrades now",
                                   help_text="Otherwise a cheaper price waits for each subscription's period end.")

    def __init__(self, *args, price: Price, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = (Price.objects.filter(is_active=True, plan__is_active=True,
                                                               currency=price.currency)
                                          .exclude(pk=price.pk).select_related("plan"))


class ChargeTryForm(forms.Form):
    quantity = forms.DecimalField(min_value=Decimal(0), max_digits=30, decimal_places=6,
                                  help_text="Units the charge model prices: after divide_by, beyond the included "
                                            "units.")
    event_values = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False,
        help_text="One value per event, in event order, separated by commas or new lines (e.g. payment amounts).")

    def __init__(self, *args, percentage: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A percentage charge prices each event; its quantity is the sum of their values, never typed apart.
        if percentage:
            del self.fields["quantity"]
            self.fields["event_values"].required = True
        else:
            del self.fields["event_values"]

    def clean_event_values(self) -> list[Decimal]:
        raw = self.cleaned_data["event_values"].replace(",", " ").split()
        if len(raw) > MAX_TRY_EVENTS:
            raise forms.ValidationError(f"Try at most {MAX_TRY_EVENTS:,} events at once.")
        values = []
        for text in raw:
            try:
                value = Decimal(text)
            except ArithmeticError as error:
                raise forms.ValidationError(f"{text!r} is not a number.") from error
            if not value.is_finite() or value < 0:
                raise forms.ValidationError(f"{text} is not a value an event can have (0 or more).")
            values.append(value)
        return values


def _charge_try(charge: UsageCharge, *, quantity: Decimal | None, event_values: list[Decimal] | None) -> dict:
    """What charge_amount says for the quantity (or the events), the way an invoice line would show it."""
    if event_values is not None:
        quantity = sum(event_values, Decimal(0))
    result = charge_amount(model=charge.charge_model, properties=charge.properties, quantity=quantity,
                           event_values=event_values)
    currency = charge.price.currency
    amount = Money(result.amount, currency)
    topup = max(charge.minimum_amount - result.amount, Decimal(0))
    return {
        "quantity": quantity,
        "amount_exact": format(result.amount, "f"),
        "amount": money_format(money_round(amount)),
        "breakdown": [breakdown_text(part.as_dict(), currency=currency) for part in result.breakdown],
        "minimum_topup": money_format(money_round(Money(topup, currency))) if topup else "",
    }


def _try_intro(charge: UsageCharge) -> str:
    included = f"first takes off {charge.included_units.normalize():,f} included {charge.unit_name}, "
    if charge.charge_model == UsageCharge.ChargeModel.PERCENTAGE:
        included = ""
    return (f"{charge.name} ({charge.get_charge_model_display().lower()}, meter {charge.meter_code}). "
            f"This prices a quantity with the charge model alone; the billing run {included}divides the meter by "
            f"{charge.divide_by.normalize():f} and bills at least the minimum, which is shown apart.")


# --- Products, tax, coupons, billing details -------------------------------------------------------------------

@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "range_display", "is_active", "sort_order"]
    list_filter = ["is_active", "currency"]
    search_fields = ["code", "name"]
    fields = ["code", "name", "description", "currency", "min_amount", "max_amount", "is_active", "sort_order"]

    def get_readonly_fields(self, request: HttpRequest, obj: Product | None = None) -> list[str]:
        # Quotes are priced inside the range in the product's currency, and the seeds find products by code.
        return ["code", "currency"] if obj else []

    def has_delete_permission(self, request: HttpRequest, obj: Product | None = None) -> bool:
        # Quotes point at their product: deactivate it instead.
        return False

    @admin.display(description="Price range")
    def range_display(self, product: Product) -> str:
        return (f"{money_format(Money(product.min_amount, product.currency))} to "
                f"{money_format(Money(product.max_amount, product.currency))}")


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    list_display = ["name", "percentage", "country", "region", "inclusive", "is_active", "created_at"]
    list_filter = ["is_active", "inclusive", "country"]
    search_fields = ["name", "country", "region"]
    fields = ["name", "percentage", "country", "region", "inclusive", "is_active", "created_at"]
    readonly_fields = ["created_at"]

    def has_delete_permission(self, request: HttpRequest, obj: TaxRate | None = None) -> bool:
        # Deactivate a rate and add its successor: invoices keep the rate they were issued with either way.
        return False


class CouponRedemptionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CouponRedemption
    fk_name = "coupon"
    fields = ["tenant", "subscription", "promotion_code", "periods_left", "redeemed_at", "ended_at", "redeemed_by"]
    readonly_fields = fields
    extra = 0
    ordering = ["-redeemed_at"]


class CouponForm(forms.ModelForm):
    class Meta:
        model = Coupon
        fields = "__all__"

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    form = CouponForm
    list_display = ["code", "name", "discount_display", "duration_display", "redeemed_display", "redeem_by",
                    "is_active"]
    list_filter = ["is_active", "duration"]
    search_fields = ["code", "name"]
    filter_horizontal = ["plans"]
    inlines = [CouponRedemptionInline]
    fields = ["code", "name", *COUPON_TERMS, "redeem_by", "max_redemptions", "times_redeemed", "plans",
              "is_active", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Coupon | None = None) -> list[str]:
        readonly = ["times_redeemed", "created_at"]
        if obj is not None:
            readonly.append("code")
            if obj.times_redeemed or obj.redemptions.exists():
                readonly += COUPON_TERMS
        return readonly

    def has_delete_permission(self, request: HttpRequest, obj: Coupon | None = None) -> bool:
        # Redemptions and promotion codes point at the coupon: deactivate it instead.
        return False

    @admin.display(description="Discount")
    def discount_display(self, coupon: Coupon) -> str:
        if coupon.percent_off is not None:
            return f"{coupon.percent_off.normalize():f} % off"
        return f"{money_format(Money(coupon.amount_off, coupon.currency))} off"

    @admin.display(description="Duration", ordering="duration")
    def duration_display(self, coupon: Coupon) -> str:
        if coupon.duration == Coupon.Duration.REPEATING:
            return f"{coupon.duration_periods} period(s)"
        return coupon.get_duration_display()

    @admin.display(description="Redeemed", ordering="times_redeemed")
    def redeemed_display(self, coupon: Coupon) -> str:
        limit = "unlimited" if coupon.max_redemptions is None else f"{coupon.max_redemptions:,}"
        return f"{coupon.times_redeemed:,} of {limit}"


class PromotionCodeForm(forms.ModelForm):
    class Meta:
        model = PromotionCode
        fields = ["code", "coupon", "first_subscription_only", "expires_at", "max_redemptions", "is_active"]

    def clean_code(self) -> str:
        # Customers type codes in any case; they are stored (and looked up) upper-case.
        return self.cleaned_data["code"].strip().upper()


class PromotionCodeRedemptionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CouponRedemption
    fk_name = "promotion_code"
    fields = ["tenant", "subscription", "periods_left", "redeemed_at", "ended_at", "redeemed_by"]
    readonly_fields = fields
    extra = 0


@admin.register(PromotionCode)
class PromotionCodeAdmin(admin.ModelAdmin):
    form = PromotionCodeForm
    list_display = ["code", "coupon", "first_subscription_only", "redeemed_display", "expires_at", "is_active"]
    list_filter = ["is_active", "first_subscription_only"]
    search_fields = ["code", "coupon__code", "coupon__name"]
    list_select_related = ["coupon"]
    inlines = [PromotionCodeRedemptionInline]

    def get_readonly_fields(self, request: HttpRequest, obj: PromotionCode | None = None) -> list[str]:
        # Customers may have been given the code: it stays what it was.
        return ["code", "coupon", "times_redeemed", "created_at"] if obj else ["times_redeemed", "created_at"]

    def has_delete_permission(self, request: HttpRequest, obj: PromotionCode | None = None) -> bool:
        return False

    @admin.display(description="Redeemed", ordering="times_redeemed")
    def redeemed_display(self, code: PromotionCode) -> str:
        limit = "unlimited" if code.max_redemptions is None else f"{code.max_redemptions:,}"
        return f"{code.times_redeemed:,} of {limit}"


@admin.register(BillingProfile)
class BillingProfileAdmin(admin.ModelAdmin):
    list_display = ["tenant", "legal_name", "email", "country", "region", "tax_id", "tax_exempt", "net_terms_days",
                    "manual_collection_approved"]
    list_filter = ["country", "tax_exempt", "manual_collection_approved"]
    search_fields = ["tenant__slug", "tenant__name", "legal_name", "tax_id", "email"]
    list_select_related = ["tenant"]
    autocomplete_fields = ["tenant"]
    readonly_fields = ["updated_at"]
    fieldsets = [
        (None, {"fields": ["tenant", "legal_name", "email"]}),
        ("Address", {"fields": ["address_line1", "address_line2", "city", "postal_code", "region", "country"]}),
        ("Tax and payment", {"fields": ["tax_id", "tax_exempt", "net_terms_days", "manual_collection_approved",
                                        "updated_at"]}),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: BillingProfile | None = None) -> list[str]:
        # A profile belongs to its tenant; issued invoices keep the details they were issued with.
        return ["tenant", *self.readonly_fields] if obj else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: BillingProfile | None = None) -> bool:
        return False
