"""Ops admin for the plan catalogue (public host only): plans with their quotas, and which plan each tenant is on.
Validation is the models' own (`Plan.clean` and the constraints run through the ModelForm); assignments go
through billing.services so entitlements follow at once."""

from django import forms
from django.contrib import admin
from django.db.models import Q
from django.http import HttpRequest

from billing.models import Plan, PlanQuota, TenantPlan
from billing.services import tenant_plan_assign

UNLIMITED = "unlimited"


def _limit_display(value: int | None) -> str:
    # An empty limit means no limit: the admin's usual "-" would read as "none allowed".
    return UNLIMITED if value is None else f"{value:,}"


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


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_public", "is_active", "sort_order", "key_rate", "tenant_rate",
                    "concurrent_ai", "monthly_ai_token_allowance", "seat_limit", "flags"]
    list_display_links = ["code", "name"]
    list_filter = ["is_public", "is_active", "team", "white_label", "client_tenants"]
    search_fields = ["code", "name"]
    ordering = ["sort_order", "code"]
    inlines = [PlanQuotaInline]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["code", "name", "description", "is_public", "is_active", "sort_order"]}),
        ("Limits (empty = unlimited)", {"fields": [
            "api_requests_per_minute_per_key", "api_requests_per_minute_per_tenant", "concurrent_ai_requests",
            "monthly_ai_token_allowance", "seats", "custom_domains"]}),
        ("Features", {"fields": ["team", "sso", "white_label", "client_tenants"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Plan | None = None) -> list[str]:
        # The code is how the default plan and the seeds find a plan: renaming it would silently break them.
        return [*self.readonly_fields, "code"] if obj else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Plan | None = None) -> bool:
        # Plans are deactivated, never deleted: tenants, and later subscriptions and invoices, point at them.
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
    form = TenantPlanForm
    list_display = ["tenant", "plan", "assigned_at"]
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
