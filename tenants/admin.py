"""Ops admin for tenants (public host only). Every change goes through tenants.services, which audits it."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from config.admin import ReadOnlyAdminMixin
from tenants import services
from tenants.exceptions import SlugInvalid, SlugTaken, TenantStatusChangeInvalid
from tenants.models import Domain, Tenant, TenantAuditLog
from tenants.selectors import slug_availability, tenant_primary_domain
from tenants.slugs import slug_validate

STATUS_ACTIONS = {
    "suspend": (services.tenant_suspend, "Suspend", "Staff will see a 'workspace suspended' page. No data is deleted."),
    "reactivate": (services.tenant_reactivate, "Reactivate", "Access is restored with all data as it was."),
    "close": (services.tenant_close, "Close",
              "The workspace is closed: access is blocked and the data is kept for export."),
}


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ["domain", "is_primary", "created_at"]
    readonly_fields = ["domain", "is_primary", "created_at"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        # Custom domains arrive with white-label and their verification; primary domains come from provisioning.
        return False


class AuditLogInline(admin.TabularInline):
    model = TenantAuditLog
    extra = 0
    fields = ["created_at", "action", "actor_email", "before", "after"]
    readonly_fields = fields
    can_delete = False
    ordering = ["-created_at"]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class TenantProvisionForm(forms.ModelForm):
    owner_email = forms.EmailField(help_text="The owner sets a password with 'Forgot password' on the tenant host.")

    class Meta:
        model = Tenant
        fields = ["name", "slug", "type", "parent_agency", "billing_email"]

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].strip().lower()
        try:
            slug_validate(slug)
        except SlugInvalid as error:
            raise ValidationError(error.message) from None
        available, message = slug_availability(slug)
        if not available:
            raise ValidationError(message)
        return slug


class TenantChangeForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = ["name", "type", "parent_agency", "billing_email", "require_mfa"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "type", "status", "primary_domain", "parent_agency", "owner_email", "created_at"]
    list_filter = ["type", "status", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["name", "slug", "domains__domain", "owner_email"]
    list_select_related = ["parent_agency"]
    readonly_fields = ["slug", "schema_name", "status", "status_changed_at", "owner_email", "created_at"]
    actions = ["suspend_tenants", "reactivate_tenants", "close_tenants"]
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        return super().get_queryset(request).customers().prefetch_related("domains")

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = TenantChangeForm if obj else TenantProvisionForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "slug", "type", "parent_agency", "owner_email", "billing_email"]
        return ["name", "slug", "schema_name", "type", "status", "status_changed_at", "parent_agency",
                "owner_email", "billing_email", "require_mfa", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def get_inlines(self, request, obj):
        return [DomainInline, AuditLogInline] if obj else []

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Tenants are closed, never deleted: their data stays for export.
        return False

    @admin.display(description="Primary domain")
    def primary_domain(self, tenant: Tenant) -> str:
        primary = [domain.domain for domain in tenant.domains.all() if domain.is_primary]
        return primary[0] if primary else (tenant_primary_domain(tenant) or "-")

    def save_model(self, request: HttpRequest, obj: Tenant, form: forms.ModelForm, change: bool) -> None:
        if change:
            changed = {field: form.cleaned_data[field] for field in form.changed_data}
            if changed:
                services.tenant_update(tenant=obj, actor=request.user, **changed)
            return
        data = form.cleaned_data
        try:
            result = services.tenant_provision(
                name=data["name"], slug=data["slug"], owner_email=data["owner_email"], owner_password=None,
                tenant_type=data["type"], billing_email=data.get("billing_email") or "",
                parent_agency=data.get("parent_agency"),
            )
        except (SlugInvalid, SlugTaken) as error:
            raise ValidationError(error.message) from error
        obj.pk = result.tenant.pk
        obj.schema_name = result.tenant.schema_name
        obj._state.adding = False

    def _status_action(self, request: HttpRequest, queryset: QuerySet[Tenant], action: str) -> HttpResponse | None:
        service, verb, explanation = STATUS_ACTIONS[action]
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(request, "admin/tenants/tenant/status_confirm.html", {
                **self.admin_site.each_context(request),
                "title": f"{verb} tenants?", "tenants": queryset, "action": f"{action}_tenants", "verb": verb,
                "explanation": explanation, "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            })
        reason = request.POST.get("reason", "").strip()
        done = 0
        for tenant in queryset:
            try:
                service(tenant=tenant, actor=request.user, reason=reason)
                done += 1
            except TenantStatusChangeInvalid as error:
                self.message_user(request, f"{tenant.slug}: {error.message}", messages.WARNING)
        if done:
            self.message_user(request, f"{verb}: {done} tenant(s).", messages.SUCCESS)
        return None

    @admin.action(description="Suspend selected tenants")
    def suspend_tenants(self, request, queryset):
        return self._status_action(request, queryset, "suspend")

    @admin.action(description="Reactivate selected tenants")
    def reactivate_tenants(self, request, queryset):
        return self._status_action(request, queryset, "reactivate")

    @admin.action(description="Close selected tenants (keeps data)")
    def close_tenants(self, request, queryset):
        return self._status_action(request, queryset, "close")


@admin.register(TenantAuditLog)
class TenantAuditLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "tenant", "action", "actor_email", "before", "after"]
    list_filter = ["action", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["tenant__slug", "tenant__name", "actor_email", "action"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"
