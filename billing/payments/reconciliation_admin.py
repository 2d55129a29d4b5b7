"""Ops admin for the daily reconciliation with Stripe (billing.payments.reconciliation): its runs, read-only, and
the disagreements it could not settle, read-only but for "Mark resolved", which asks for a note and goes through
reconciliation's service. Only services write these rows."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from billing.errors import BillingError
from billing.models import ReconciliationDisagreement, ReconciliationRun
from billing.payments.reconciliation import reconciliation_disagreement_resolve
from config.admin import ReadOnlyAdminMixin

RUN_FIELDS = ["started_at", "finished_at", "invoices_checked", "payments_settled", "disagreements",
              "disagreements_link"]
DISAGREEMENT_FIELDS = ["kind", "status", "stripe_id", "tenant_link", "invoice_link", "payment_link", "message",
                       "detail", "first_run", "first_seen_at", "last_seen_at", "resolved_at", "resolved_by",
                       "resolution_note"]


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["started_at", "finished_display", "invoices_checked", "payments_settled", "disagreements",
                    "disagreements_link"]
    date_hierarchy = "started_at"
    ordering = ["-started_at", "-id"]
    fields = RUN_FIELDS
    readonly_fields = RUN_FIELDS

    @admin.display(description="Finished", ordering="finished_at")
    def finished_display(self, run: ReconciliationRun) -> str:
        # A run Stripe stopped answering mid-way says so instead of an empty cell.
        return run.finished_at or "interrupted (Stripe unreachable)"

    @admin.display(description="Disagreements it found")
    def disagreements_link(self, run: ReconciliationRun) -> str:
        url = reverse("admin:billing_reconciliationdisagreement_changelist") + f"?first_run__id__exact={run.pk}"
        return format_html('<a href="{}">list</a>', url)


class ResolveForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 80}), max_length=2000,
                           help_text="What was done about it (refunded, settled by hand, a test object...).")


@admin.register(ReconciliationDisagreement)
class ReconciliationDisagreementAdmin(admin.ModelAdmin):
    list_display = ["last_seen_at", "kind", "status", "stripe_id", "tenant_link", "invoice_link", "message",
                    "first_seen_at", "resolved_by"]
    list_filter = ["status", "kind"]
    search_fields = ["stripe_id", "invoice__number", "tenant__slug", "tenant__name"]
    list_select_related = ["invoice", "tenant"]
    date_hierarchy = "last_seen_at"
    ordering = ["-last_seen_at", "-id"]
    fields = DISAGREEMENT_FIELDS
    readonly_fields = DISAGREEMENT_FIELDS
    actions = ["mark_resolved"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # only a reconciliation run finds one

    def has_delete_permission(self, request: HttpRequest, obj: ReconciliationDisagreement | None = None) -> bool:
        return False

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        # Every field is read-only: resolving is the list's action, never a save.
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False,
                         "show_save_and_add_another": False, "show_delete": False}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Tenant", ordering="tenant__slug")
    def tenant_link(self, row: ReconciliationDisagreement) -> str:
        if row.tenant is None:
            return "-"
        return format_html('<a href="{}">{}</a>', reverse("admin:tenants_tenant_change", args=[row.tenant_id]),
                           row.tenant.slug)

    @admin.display(description="Invoice", ordering="invoice__number")
    def invoice_link(self, row: ReconciliationDisagreement) -> str:
        if row.invoice is None:
            return "-"
        return format_html('<a href="{}">{}</a>', reverse("admin:billing_invoice_change", args=[row.invoice_id]),
                           row.invoice)

    @admin.display(description="Payment")
    def payment_link(self, row: ReconciliationDisagreement) -> str:
        if row.payment_id is None:
            return "-"
        return format_html('<a href="{}">{}</a>', reverse("admin:billing_payment_change", args=[row.payment_id]),
                           row.payment)

    @admin.action(description="Mark the selected disagreements resolved (with a note)", permissions=["change"])
    def mark_resolved(self, request: HttpRequest,
                      queryset: QuerySet[ReconciliationDisagreement]) -> HttpResponse | None:
        form = ResolveForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return TemplateResponse(request, "admin/billing/reconciliationdisagreement/resolve.html", {
                **self.admin_site.each_context(request),
                "title": "Mark disagreements resolved", "opts": self.model._meta, "form": form,
                "disagreements": queryset, "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            })
        done = 0
        for row in queryset.order_by("pk"):
            try:
                reconciliation_disagreement_resolve(disagreement=row, actor=request.user.email,
                                                    note=form.cleaned_data["note"], now=timezone.now())
                done += 1
            except BillingError as error:
                self.message_user(request, f"{row}: {error.message}", messages.WARNING)
        if done:
            self.message_user(request, f"Resolved: {done} disagreement(s).", messages.SUCCESS)
        return None
