"""Ops admin of sender domains (public host only): every brand's sending domain with its state and last check;
its page shows the DKIM, SPF and DMARC records the brand must publish and what the last check found, record by
record. Read-only but for "check now", which goes through the service. The DKIM private key is never shown: it is
neither a field nor a column here."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from whitelabel.email.selectors import sender_records
from whitelabel.email.services import sender_domain_check
from whitelabel.models import SenderDomain

FIELDS = ["domain", "brand", "tenant", "status", "dkim_selector", "records_to_publish", "last_check_findings",
          "last_checked_at", "verified_at", "created_at"]


@admin.register(SenderDomain)
class SenderDomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "brand", "tenant", "status", "last_checked_at", "last_result", "verified_at"]
    list_filter = ["status"]
    search_fields = ["domain", "brand__display_name", "brand__tenant__slug"]
    list_select_related = ["brand__tenant"]
    ordering = ["domain"]
    fields = FIELDS
    readonly_fields = FIELDS
    actions = ["check_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A brand sets its domain (and gets its key pair) on its Branding page; ops never add one for it.
        return False

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        # Every field is read-only: changes are the list's action, never a save.
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False,
                         "show_save_and_add_another": False}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Tenant", ordering="brand__tenant__slug")
    def tenant(self, sender: SenderDomain) -> str:
        return sender.brand.tenant.slug

    @admin.display(description="Last result")
    def last_result(self, sender: SenderDomain) -> str:
        return (sender.last_check or {}).get("result", "-")

    @admin.display(description="Records to publish")
    def records_to_publish(self, sender: SenderDomain) -> str:
        rows = format_html_join("", "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                                ((record.key.upper(), record.name, record.value)
                                 for record in sender_records(sender)))
        return format_html("<table><tr><th>Record</th><th>Name (TXT)</th><th>Value</th></tr>{}</table>", rows)

    @admin.display(description="Last check found")
    def last_check_findings(self, sender: SenderDomain) -> str:
        last = sender.last_check or {}
        if not last:
            return "Not checked yet."
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (key.upper(), last[key].get("outcome"), "yes" if last[key].get("ok") else "NO", last[key].get("message"))
            for key in ("dkim", "spf", "dmarc") if key in last))
        return format_html("<p>{}</p><table><tr><th>Record</th><th>Outcome</th><th>OK</th><th>Finding</th></tr>{}"
                           "</table>", last.get("result", ""), rows)

    @admin.action(description="Check the selected sender domains now (DNS lookups)", permissions=["change"])
    def check_now(self, request: HttpRequest, queryset: QuerySet[SenderDomain]) -> None:
        done = []
        for sender in queryset.order_by("pk"):
            try:
                after = sender_domain_check(sender_domain=sender, now=timezone.now())
            except SenderDomain.DoesNotExist:  # removed by its brand meanwhile
                continue
            done.append(f"{after.domain} ({after.get_status_display().lower()}, {after.last_check['result']})")
        if done:
            self.message_user(request, f"Checked: {', '.join(done)}.", messages.SUCCESS)
