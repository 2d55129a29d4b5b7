"""Ops' admin of the money the program owes: commissions (approve now, hold, reverse), payouts (create this cycle's
batch, export a PayPal or Wise CSV, mark paid, send through Stripe Connect) and fraud flags (clear, or confirm and
reverse). Every row is written by the services; ops change them only through these actions, which call them."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from affiliates.commissions.services import commission_approve, commission_hold, commission_reverse
from affiliates.fraud.services import fraud_flag_clear, fraud_flag_confirm
from affiliates.models import Commission, FraudFlag, Payout
from affiliates.payouts.services import (
    payout_mark_paid,
    payout_period_end,
    payout_transfer_send,
    payouts_create,
    payouts_export_csv,
)
from config.errors import DomainError


class ServiceWrittenAdmin(admin.ModelAdmin):
    """Rows only services write: nothing added, edited or deleted by hand; actions (change permission) call the
    services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def each(self, request: HttpRequest, queryset: QuerySet, act, done_message: str) -> None:
        """Run `act(row)` on each selected row; a refusal is reported per row, the others still run."""
        done = 0
        for row in queryset:
            try:
                act(row)
            except DomainError as error:
                self.message_user(request, f"{row}: {error.message}", messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(request, done_message.format(done=done), messages.SUCCESS)


class CommissionInline(admin.TabularInline):
    model = Commission
    fields = ["kind", "invoice", "amount", "currency", "status", "source_key"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Commission)
class CommissionAdmin(ServiceWrittenAdmin):
    list_display = ["pk", "affiliate", "kind", "invoice", "base_amount", "rate", "amount", "currency", "status",
                    "payable_at", "payout", "created_at"]
    list_filter = ["status", "kind", "currency"]
    search_fields = ["affiliate__code", "affiliate__name", "affiliate__email", "source_key", "invoice__number"]
    list_select_related = ["affiliate", "invoice", "payout"]
    date_hierarchy = "created_at"
    actions = ["approve_now", "hold", "reverse"]

    @admin.action(description="Approve now (waive the holding period and holds)", permissions=["change"])
    def approve_now(self, request: HttpRequest, queryset: QuerySet[Commission]) -> None:
        self.each(request, queryset, lambda c: commission_approve(commission=c, actor=request.user.email,
                                                                  now=timezone.now()),
                  "Approved {done} commission(s).")

    @admin.action(description="Hold for review", permissions=["change"])
    def hold(self, request: HttpRequest, queryset: QuerySet[Commission]) -> None:
        self.each(request, queryset, lambda c: commission_hold(commission=c, reason=request.user.email,
                                                               actor=request.user.email),
                  "Held {done} commission(s).")

    @admin.action(description="Reverse (never paid; claws back one already paid out)", permissions=["change"])
    def reverse(self, request: HttpRequest, queryset: QuerySet[Commission]) -> None:
        self.each(request, queryset, lambda c: commission_reverse(commission=c, actor=request.user.email,
                                                                  now=timezone.now()),
                  "Reversed {done} commission(s).")


@admin.register(Payout)
class PayoutAdmin(ServiceWrittenAdmin):
    list_display = ["pk", "affiliate", "amount", "currency", "method", "status", "period_end", "reference",
                    "created_at", "paid_at"]
    list_filter = ["status", "method", "currency", "period_end"]
    search_fields = ["affiliate__code", "affiliate__name", "affiliate__email", "reference"]
    list_select_related = ["affiliate"]
    inlines = [CommissionInline]
    change_list_template = "affiliates/admin/payout_change_list.html"
    actions = ["export_paypal", "export_wise", "mark_paid", "send_stripe_connect"]

    def get_urls(self) -> list[URLPattern]:
        return [
            path("create-batch/", self.admin_site.admin_view(self.create_batch_view),
                 name="affiliates_payout_create_batch"),
            *super().get_urls(),
        ]

    def create_batch_view(self, request: HttpRequest) -> HttpResponse:
        """Batch the previous month's approved commissions now (what the monthly job does; running it twice for
        one cycle creates nothing more)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            self.message_user(request, "You may not create payouts.", messages.ERROR)
        else:
            now = timezone.now()
            run = payouts_create(period_end=payout_period_end(now=now), now=now)
            self.message_user(request, f"Cycle ending {run.period_end}: {len(run.created)} payout(s) created, "
                                       f"{run.below_threshold} below the threshold.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:affiliates_payout_changelist"))

    @admin.action(description="Export a PayPal Payouts CSV (one currency)", permissions=["change"])
    def export_paypal(self, request: HttpRequest, queryset: QuerySet[Payout]) -> HttpResponse | None:
        return self._export(request, queryset, provider="paypal")

    @admin.action(description="Export a Wise batch CSV", permissions=["change"])
    def export_wise(self, request: HttpRequest, queryset: QuerySet[Payout]) -> HttpResponse | None:
        return self._export(request, queryset, provider="wise")

    @admin.action(description="Mark paid (the PayPal or Wise batch was sent)", permissions=["change"])
    def mark_paid(self, request: HttpRequest, queryset: QuerySet[Payout]) -> None:
        self.each(request, queryset, lambda p: payout_mark_paid(payout=p, reference="", actor=request.user.email,
                                                                now=timezone.now()),
                  "Marked {done} payout(s) paid.")

    @admin.action(description="Send through Stripe Connect", permissions=["change"])
    def send_stripe_connect(self, request: HttpRequest, queryset: QuerySet[Payout]) -> None:
        self.each(request, queryset, lambda p: payout_transfer_send(payout=p, actor=request.user.email,
                                                                    now=timezone.now()),
                  "Sent {done} payout(s) through Stripe Connect.")

    def _export(self, request: HttpRequest, queryset: QuerySet[Payout], *, provider: str) -> HttpResponse | None:
        try:
            text = payouts_export_csv(payouts=queryset, provider=provider, actor=request.user.email,
                                      now=timezone.now())
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return None
        response = HttpResponse(text, content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="tollgate-payouts-{provider}.csv"'
        return response


@admin.register(FraudFlag)
class FraudFlagAdmin(ServiceWrittenAdmin):
    list_display = ["pk", "affiliate", "rule", "reason", "referral", "commission", "status", "created_at",
                    "reviewed_by"]
    list_filter = ["status", "rule"]
    search_fields = ["affiliate__code", "affiliate__name", "reason", "referral__tenant__slug"]
    list_select_related = ["affiliate", "referral", "commission"]
    actions = ["clear", "confirm"]

    @admin.action(description="Clear (nothing wrong: release the commissions)", permissions=["change"])
    def clear(self, request: HttpRequest, queryset: QuerySet[FraudFlag]) -> None:
        self.each(request, queryset, lambda f: fraud_flag_clear(flag=f, actor=request.user.email, now=timezone.now()),
                  "Cleared {done} flag(s).")

    @admin.action(description="Confirm and reverse the commissions", permissions=["change"])
    def confirm(self, request: HttpRequest, queryset: QuerySet[FraudFlag]) -> None:
        self.each(request, queryset, lambda f: fraud_flag_confirm(flag=f, actor=request.user.email,
                                                                  now=timezone.now()),
                  "Confirmed {done} flag(s); their commissions are reversed.")
