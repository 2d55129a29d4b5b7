"""Ops' admin of agencies: each agency's earnings mode (referral or reseller), rate and wholesale discount (saved
through agency_earnings_set, which starts or ends the clients' consolidated billing), with its clients, whether each
gave it access and their consolidated billing; the clients' grants (revoke through the service) and the hand-offs that
used them, read only."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from affiliates.agencies.exceptions import AgencyAccessInvalid
from affiliates.agencies.selectors import agency_client_list
from affiliates.agencies.services import agency_access_revoke, agency_earnings_set
from affiliates.models import AgencyAccessGrant, AgencyHandoff, AgencyProfile
from billing.consolidation.selectors import consolidated_billing_list
from config.admin import ReadOnlyAdminMixin
from tenants.models import Tenant


class AgencyProfileForm(forms.ModelForm):
    class Meta:
        model = AgencyProfile
        fields = ["agency", "earnings_mode", "commission_rate", "wholesale_discount_percent"]

    def clean_wholesale_discount_percent(self) -> Decimal:
        percent = self.cleaned_data["wholesale_discount_percent"]
        if not Decimal(0) <= percent <= Decimal(100):
            raise forms.ValidationError("A percentage between 0 and 100.")
        return percent


@admin.register(AgencyProfile)
class AgencyProfileAdmin(admin.ModelAdmin):
    form = AgencyProfileForm
    list_display = ["agency", "earnings_mode", "commission_rate", "wholesale_discount_percent", "client_count",
                    "updated_at"]
    list_filter = ["earnings_mode"]
    search_fields = ["agency__name", "agency__slug"]
    readonly_fields = ["clients", "consolidated_billing", "updated_at"]
    fields = ["agency", "earnings_mode", "commission_rate", "wholesale_discount_percent", "clients",
              "consolidated_billing", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AgencyProfile]:
        return super().get_queryset(request).select_related("agency")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "agency":
            kwargs["queryset"] = Tenant.objects.filter(type=Tenant.Type.AGENCY)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: AgencyProfile | None = None) -> list[str]:
        # The agency of a profile never changes: its referrals and commissions point at it.
        return [*self.readonly_fields, "agency"] if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: AgencyProfile, form, change: bool) -> None:
        # Through the service: switching the mode starts or ends its clients' consolidated billing, and a new
        # discount reaches their current arrangements.
        profile = agency_earnings_set(agency=obj.agency, earnings_mode=obj.earnings_mode,
                                      commission_rate=obj.commission_rate,
                                      wholesale_discount_percent=obj.wholesale_discount_percent,
                                      actor_email=request.user.email)
        obj.pk, obj.updated_at = profile.pk, profile.updated_at

    @admin.display(description="Consolidated billing (reseller mode)")
    def consolidated_billing(self, profile: AgencyProfile) -> str:
        arrangements = list(consolidated_billing_list(payer=profile.agency)) if profile.pk else []
        if not arrangements:
            return "None"
        rows = format_html_join("", "<li>{} ({}): {} % off, since {}{}</li>", (
            (row.client.name, row.client.slug, row.wholesale_discount_percent.normalize(),
             row.started_at.strftime("%Y-%m-%d %H:%M"),
             f", ended {row.ended_at:%Y-%m-%d %H:%M}" if row.ended_at else "") for row in arrangements))
        return format_html("<ul>{}</ul>", rows)

    @admin.display(description="Clients")
    def client_count(self, profile: AgencyProfile) -> int:
        return agency_client_list(agency=profile.agency).count()

    @admin.display(description="Clients (status, access)")
    def clients(self, profile: AgencyProfile) -> str:
        clients = list(agency_client_list(agency=profile.agency))
        if not clients:
            return "None yet"
        granted = set(AgencyAccessGrant.objects.filter(agency=profile.agency, revoked_at__isnull=True)
                      .values_list("client_id", flat=True))
        rows = format_html_join("", "<li>{} ({}): {}, {}</li>", (
            (client.name, client.slug, client.get_status_display(),
             "access granted" if client.pk in granted else "no access") for client in clients))
        return format_html("<ul>{}</ul>", rows)


class AgencyHandoffInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AgencyHandoff
    fields = ["staff_email", "staff_mfa_verified", "created_at", "expires_at", "used_at"]  # never the token hash
    extra = 0


@admin.register(AgencyAccessGrant)
class AgencyAccessGrantAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["client", "agency", "role", "granted_by", "granted_at", "revoked_by", "revoked_at"]
    list_filter = ["role", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["client__slug", "client__name", "agency__slug", "agency__name", "granted_by"]
    inlines = [AgencyHandoffInline]
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AgencyAccessGrant]:
        return super().get_queryset(request).select_related("client", "agency")

    @admin.action(description="Revoke the selected grants (agency staff are signed out at once)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[AgencyAccessGrant]) -> None:
        revoked = 0
        for grant in queryset.filter(revoked_at__isnull=True).select_related("client"):
            try:
                agency_access_revoke(client=grant.client, actor_email=request.user.email)
            except AgencyAccessInvalid:
                continue
            revoked += 1
        messages.success(request, f"{revoked} grant(s) revoked.")
