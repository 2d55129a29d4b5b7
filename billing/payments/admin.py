"""Ops admin for the payment rail (public host only): dunning cases, read-only but for two actions that go through
dunning's services (retry now, close), and every payment attempt with its failure and its PaymentIntent, read-only;
card refunds (read-only but for asking Stripe again for a pending one) and disputes, read-only.
Only services write these rows; the admin never saves one."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from billing.errors import BillingError
from billing.models import CardRefund, Dispute, DunningCase, Payment
from billing.payments.dunning import dunning_close, dunning_retries_left, dunning_retry_now
from billing.payments.refunds import card_refund_request
from billing.payments.stripe_api import stripe_livemode
from config.admin import ReadOnlyAdminMixin
from config.money import Money, money_format

CASE_FIELDS = ["invoice_link", "tenant", "subscription", "status", "started_at", "last_attempt",
               "last_attempt_asked_at", "retries_made", "retries_left", "next_attempt_at", "action_required_since",
               "card_retried", "ended_at"]
PAYMENT_FIELDS = ["invoice_link", "tenant", "attempt", "source", "amount_display", "status", "failure_code",
                  "failure_message", "stripe_link", "action_url", "created_at", "settled_at"]


def _invoice_link(invoice) -> str:
    return format_html('<a href="{}">{}</a>', reverse("admin:billing_invoice_change", args=[invoice.pk]), invoice)


@admin.register(DunningCase)
class DunningCaseAdmin(admin.ModelAdmin):
    list_display = ["invoice_link", "tenant", "status", "last_attempt", "retries_made", "next_attempt_at",
                    "action_required_since", "started_at"]
    list_filter = ["status"]
    search_fields = ["invoice__number", "tenant__slug", "tenant__name"]
    list_select_related = ["invoice", "tenant"]
    date_hierarchy = "started_at"
    ordering = ["-started_at", "-id"]
    fields = CASE_FIELDS
    readonly_fields = CASE_FIELDS
    actions = ["retry_now", "close"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A case opens at an invoice's first failed payment, never by hand.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: DunningCase | None = None) -> bool:
        return False

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        # Every field is read-only: changes are the list's actions, never a save.
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False,
                         "show_save_and_add_another": False, "show_delete": False}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Invoice", ordering="invoice__number")
    def invoice_link(self, case: DunningCase) -> str:
        return _invoice_link(case.invoice)

    @admin.display(description="Automatic retries left")
    def retries_left(self, case: DunningCase) -> int:
        return dunning_retries_left(case) if case.is_active else 0

    @admin.action(description="Retry the selected cases now (one charge each)", permissions=["change"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[DunningCase]) -> None:
        self._each(request, queryset, "Retried", dunning_retry_now)

    @admin.action(description="Close the selected cases (stop retrying; the invoices stay open)",
                  permissions=["change"])
    def close(self, request: HttpRequest, queryset: QuerySet[DunningCase]) -> None:
        self._each(request, queryset, "Closed", dunning_close)

    def _each(self, request: HttpRequest, queryset: QuerySet[DunningCase], done_message: str, service) -> None:
        done = 0
        for case in queryset.select_related("invoice").order_by("pk"):
            try:
                service(case=case, actor=request.user.email, now=timezone.now())
                done += 1
            except BillingError as error:
                self.message_user(request, f"{case.invoice}: {error.message}", messages.WARNING)
        if done:
            self.message_user(request, f"{done_message}: {done} case(s).", messages.SUCCESS)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "invoice_link", "tenant", "attempt", "source", "amount_display", "status",
                    "failure_code", "stripe_link"]
    list_filter = ["status", "source", "invoice__status", "currency"]
    search_fields = ["invoice__number", "tenant__slug", "tenant__name", "payment_intent_id", "failure_code"]
    list_select_related = ["invoice", "tenant"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    fields = PAYMENT_FIELDS
    readonly_fields = PAYMENT_FIELDS

    @admin.display(description="Invoice", ordering="invoice__number")
    def invoice_link(self, payment: Payment) -> str:
        return _invoice_link(payment.invoice)

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, payment: Payment) -> str:
        return money_format(Money(payment.amount, payment.currency))

    @admin.display(description="PaymentIntent", ordering="payment_intent_id")
    def stripe_link(self, payment: Payment) -> str:
        if not payment.payment_intent_id:
            return "-"  # the attempt never reached Stripe (no card on file)
        mode = "" if stripe_livemode() else "test/"
        return format_html('<a href="https://dashboard.stripe.com/{}payments/{}" rel="noopener" target="_blank">{}</a>',
                           mode, payment.payment_intent_id, payment.payment_intent_id)


REFUND_FIELDS = ["credit_note", "invoice_link", "tenant", "amount_display", "status", "failure_reason", "refund_id",
                 "payment", "created_at", "settled_at"]
DISPUTE_FIELDS = ["dispute_id", "invoice_link", "tenant", "payment", "amount_display", "reason", "status",
                  "evidence_due_by", "charge_id", "payment_intent_id", "opened_at", "closed_at", "updated_at"]


@admin.register(CardRefund)
class CardRefundAdmin(admin.ModelAdmin):
    """Credit notes going back to the card; a failed one's amount went to the account credit. Read-only but for
    one action: ask Stripe again for refunds still pending (their task lost with the broker, say), which reaches
    the same Stripe refund through the credit note's Idempotency-Key."""

    list_display = ["created_at", "credit_note", "invoice_link", "tenant", "amount_display", "status", "refund_id",
                    "settled_at"]
    list_filter = ["status", "currency"]
    search_fields = ["credit_note__number", "invoice__number", "tenant__slug", "tenant__name", "refund_id"]
    list_select_related = ["credit_note", "invoice", "tenant"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    fields = REFUND_FIELDS
    readonly_fields = REFUND_FIELDS
    actions = ["request_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a card refund comes with its credit note, issued from the invoice

    def has_delete_permission(self, request: HttpRequest, obj: CardRefund | None = None) -> bool:
        return False

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False,
                         "show_save_and_add_another": False, "show_delete": False}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Ask Stripe again for the selected pending refunds", permissions=["change"])
    def request_again(self, request: HttpRequest, queryset: QuerySet[CardRefund]) -> None:
        done = 0
        for refund in queryset.filter(status=CardRefund.Status.PENDING).order_by("pk"):
            try:
                card_refund_request(card_refund_id=refund.pk, now=timezone.now())
                done += 1
            except BillingError as error:
                self.message_user(request, f"{refund.credit_note}: {error.message}", messages.WARNING)
        self.message_user(request, f"Asked Stripe again: {done} pending refund(s).", messages.SUCCESS)

    @admin.display(description="Invoice", ordering="invoice__number")
    def invoice_link(self, refund: CardRefund) -> str:
        return _invoice_link(refund.invoice)

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, refund: CardRefund) -> str:
        return money_format(Money(refund.amount, refund.currency))


class DisputeOpenFilter(admin.SimpleListFilter):
    title = "open or closed"
    parameter_name = "open"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("yes", "Open"), ("no", "Closed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Dispute]) -> QuerySet[Dispute]:
        closed = Dispute.CLOSED_STATUSES
        if self.value() == "yes":
            return queryset.exclude(status__in=closed)
        if self.value() == "no":
            return queryset.filter(status__in=closed)
        return queryset


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Chargebacks on our card payments as Stripe last described them; answered in Stripe's dashboard."""

    list_display = ["opened_at", "dispute_id", "invoice_link", "tenant", "amount_display", "reason", "status",
                    "evidence_due_by", "closed_at"]
    list_filter = [DisputeOpenFilter, "status", "reason", "currency"]
    search_fields = ["dispute_id", "charge_id", "payment_intent_id", "invoice__number", "tenant__slug",
                     "tenant__name"]
    list_select_related = ["invoice", "tenant"]
    date_hierarchy = "opened_at"
    ordering = ["-opened_at", "-id"]
    fields = DISPUTE_FIELDS
    readonly_fields = DISPUTE_FIELDS

    @admin.display(description="Invoice", ordering="invoice__number")
    def invoice_link(self, dispute: Dispute) -> str:
        return _invoice_link(dispute.invoice) if dispute.invoice else "-"

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, dispute: Dispute) -> str:
        return money_format(Money(dispute.amount, dispute.currency))
