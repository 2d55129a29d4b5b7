"""Ops' admin of the program: its settings (one row), applications (approve or reject through the services),
affiliates with their figures (suspend or reinstate), clicks counted per affiliate and day, and referrals. Clicks
and referrals are records the program writes: read only here."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from affiliates.exceptions import AffiliateEmailTaken, ApplicationNotPending
from affiliates.models import Affiliate, AffiliateApplication, AffiliateProgram, Referral, ReferralClick
from affiliates.program import PROGRAM_CODE
from affiliates.selectors import clicks_per_day
from affiliates.services import affiliate_reinstate, affiliate_suspend, application_approve, application_reject
from config.admin import ReadOnlyAdminMixin

CLICK_DAYS_SHOWN = 90


@admin.register(AffiliateProgram)
class AffiliateProgramAdmin(admin.ModelAdmin):
    list_display = ["code", "commission_rate", "commission_type", "cookie_days", "attribution", "holding_days",
                    "payout_threshold", "payout_currency", "payout_cycle", "updated_at"]
    readonly_fields = ["code", "updated_at"]
    fieldsets = [
        ("Commissions", {"fields": ["code", "commission_rate", "commission_type", "recurring_months", "scheme"]}),
        ("Attribution", {"fields": ["cookie_days", "attribution"]}),
        ("Holding and payouts", {"fields": ["holding_days", "payout_threshold", "payout_currency", "payout_cycle",
                                            "min_paying_customers", "manual_approval_above",
                                            "refund_rate_flag_percent"]}),
        ("Tenant referrals", {"fields": ["referred_coupon", "referrer_reward", "referrer_reward_amount",
                                         "referrer_reward_tokens", "referrer_rewards_per_year",
                                         "referral_min_first_payment", "referral_reward_expiry_days"]}),
        (None, {"fields": ["updated_at"]}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # One program (seeded by the migration): its settings are edited, never a second one added.
        return not AffiliateProgram.objects.filter(code=PROGRAM_CODE).exists()

    def has_delete_permission(self, request: HttpRequest, obj: AffiliateProgram | None = None) -> bool:
        return False


@admin.register(AffiliateApplication)
class AffiliateApplicationAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "website", "status", "created_at", "reviewed_by", "reviewed_at"]
    list_filter = ["status"]
    search_fields = ["name", "email", "website"]
    readonly_fields = ["name", "email", "website", "promotion", "status", "ip_hash", "reviewed_by", "reviewed_at",
                       "rejection_reason", "created_at"]
    actions = ["approve", "reject"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # applications come from the public form

    @admin.action(description="Approve (creates the affiliate's account and emails a set-password link)")
    def approve(self, request: HttpRequest, queryset: QuerySet[AffiliateApplication]) -> None:
        done = 0
        for application in queryset:
            try:
                application_approve(application=application, reviewer=request.user.email, now=timezone.now())
            except (ApplicationNotPending, AffiliateEmailTaken) as error:
                self.message_user(request, f"{application.email}: {error.message}", messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(request, f"Approved {done} application(s).", messages.SUCCESS)

    @admin.action(description="Reject")
    def reject(self, request: HttpRequest, queryset: QuerySet[AffiliateApplication]) -> None:
        done = 0
        for application in queryset:
            try:
                application_reject(application=application, reviewer=request.user.email,
                                   reason="Not accepted into the program.", now=timezone.now())
            except ApplicationNotPending as error:
                self.message_user(request, f"{application.email}: {error.message}", messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(request, f"Rejected {done} application(s).", messages.SUCCESS)


def _count_of(model, **filters) -> Coalesce:
    """A correlated count per affiliate (one subquery each: no row multiplication between the counts)."""
    counted = (model.objects.filter(affiliate_id=OuterRef("pk"), **filters).order_by()
               .values("affiliate_id").annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(counted), 0)


@admin.register(Affiliate)
class AffiliateAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "status", "email", "clicks", "signups", "paying", "rate_shown",
                    "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "code", "email", "promotion_code"]
    readonly_fields = ["kind", "code", "user", "tenant", "application", "created_at"]
    fields = ["kind", "code", "name", "email", "user", "tenant", "application", "status", "website",
              "commission_rate", "commission_type", "recurring_months", "scheme", "promotion_code",
              "stripe_promotion_code_id", "payout_method", "payout_email", "stripe_connect_account_id",
              "created_at"]
    actions = ["suspend", "reinstate"]

    def get_readonly_fields(self, request: HttpRequest, obj: Affiliate | None = None) -> list[str]:
        # Status moves through the actions, which also lock or unlock the affiliate's sign-in.
        return [*self.readonly_fields, "status"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # affiliates come from approved applications (tenants' and agencies' from their own flows)

    def has_delete_permission(self, request: HttpRequest, obj: Affiliate | None = None) -> bool:
        return False  # referrals and commissions point at it: suspend instead

    def get_queryset(self, request: HttpRequest) -> QuerySet[Affiliate]:
        return super().get_queryset(request).annotate(
            click_count=_count_of(ReferralClick), signup_count=_count_of(Referral),
            paying_count=_count_of(Referral, status=Referral.Status.PAYING),
        )

    @admin.display(description="Clicks", ordering="click_count")
    def clicks(self, affiliate: Affiliate) -> int:
        return affiliate.click_count

    @admin.display(description="Signups", ordering="signup_count")
    def signups(self, affiliate: Affiliate) -> int:
        return affiliate.signup_count

    @admin.display(description="Paying", ordering="paying_count")
    def paying(self, affiliate: Affiliate) -> int:
        return affiliate.paying_count

    @admin.display(description="Rate")
    def rate_shown(self, affiliate: Affiliate) -> str:
        return f"{affiliate.commission_rate} %" if affiliate.commission_rate is not None else "program's"

    @admin.action(description="Suspend (no more earnings, no sign-in)")
    def suspend(self, request: HttpRequest, queryset: QuerySet[Affiliate]) -> None:
        for affiliate in queryset:
            affiliate_suspend(affiliate=affiliate)
        self.message_user(request, f"Suspended {queryset.count()} affiliate(s).", messages.SUCCESS)

    @admin.action(description="Reinstate")
    def reinstate(self, request: HttpRequest, queryset: QuerySet[Affiliate]) -> None:
        for affiliate in queryset:
            affiliate_reinstate(affiliate=affiliate)
        self.message_user(request, f"Reinstated {queryset.count()} affiliate(s).", messages.SUCCESS)


@admin.register(ReferralClick)
class ReferralClickAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Clicks are many: the list is their count per affiliate and day (one aggregate), not the rows."""

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        since = timezone.now().date() - timedelta(days=CLICK_DAYS_SHOWN)
        rows = clicks_per_day(since=since)
        names = dict(Affiliate.objects.filter(pk__in={row["affiliate_id"] for row in rows})
                     .values_list("pk", "name"))
        for row in rows:
            row["affiliate_name"] = names.get(row["affiliate_id"], row["affiliate_id"])
        return TemplateResponse(request, "admin/affiliates/clicks_per_day.html", {
            **self.admin_site.each_context(request), "title": f"Referral clicks per day (last {CLICK_DAYS_SHOWN} days)",
            "opts": self.model._meta, "rows": rows,
        })


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["tenant", "affiliate", "source", "status", "created_at", "first_paid_at", "churned_at"]
    list_filter = ["status", "source", "affiliate__kind"]
    search_fields = ["tenant__slug", "tenant__name", "affiliate__code", "affiliate__name", "owner_email"]
    list_select_related = ["tenant", "affiliate"]
    readonly_fields = ["tenant", "affiliate", "click", "source", "status", "signup_ip_hash", "signup_network_hash",
                       "signup_device_hash", "owner_email", "created_at", "first_paid_at", "churned_at"]
