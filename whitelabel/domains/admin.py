"""Ops admin of custom domains (public host only): every claim with its tenant, state, last check and failing
time; its page shows the DNS records the tenant must create and what the last check found. Read-only but for two
actions that go through the services: check now (the DNS lookups, then the state they lead to) and release (it
stops routing at once; the hostname is free to be claimed again)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from whitelabel.domains.exceptions import CustomDomainError
from whitelabel.domains.selectors import domain_check_findings, domain_record_rows
from whitelabel.domains.services import domain_check, domain_release
from whitelabel.models import CustomDomain

FIELDS = ["hostname", "tenant", "status", "records_to_create", "last_check_findings", "last_checked_at",
          "claimed_at", "verified_at", "activated_at", "failing_since", "ended_at"]


@admin.register(CustomDomain)
class CustomDomainAdmin(admin.ModelAdmin):
    list_display = ["hostname", "tenant", "status", "last_checked_at", "last_result", "failing_since", "claimed_at"]
    list_filter = ["status"]
    search_fields = ["hostname", "tenant__slug", "tenant__name"]
    list_select_related = ["tenant"]
    ordering = ["hostname", "-claimed_at"]
    fields = FIELDS
    readonly_fields = FIELDS
    actions = ["check_now", "release"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A tenant claims its hostname (with a token only it publishes); ops never add one for it.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: CustomDomain | None = None) -> bool:
        # Release instead: deleting a row would leave its route behind.
        return False

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        # Every field is read-only: changes are the list's actions, never a save.
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False,
                         "show_save_and_add_another": False, "show_delete": False}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Last result")
    def last_result(self, domain: CustomDomain) -> str:
        return (domain.last_check or {}).get("result", "-")

    @admin.display(description="Records to create")
    def records_to_create(self, domain: CustomDomain) -> str:
        rows = format_html_join("", "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>",
                                ((row.type, row.name, row.value, row.when) for row in domain_record_rows(domain)))
        return format_html("<table><tr><th>Type</th><th>Name</th><th>Value</th><th>When</th></tr>{}</table>", rows)

    @admin.display(description="Last check found")
    def last_check_findings(self, domain: CustomDomain) -> str:
        last = domain.last_check or {}
        if not last:
            return "Not checked yet."
        rows = format_html_join("", "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (found.type, found.name, found.outcome, ", ".join(found.values) or "-", "yes" if found.ok else "NO")
            for found in domain_check_findings(domain)))
        return format_html("<p>{} {}</p><table><tr><th>Type</th><th>Name</th><th>Outcome</th><th>Found</th>"
                           "<th>OK</th></tr>{}</table>", last.get("result", ""),
                           ", ".join(last.get("reasons", [])), rows)

    @admin.action(description="Check the selected domains now (DNS lookups)", permissions=["change"])
    def check_now(self, request: HttpRequest, queryset: QuerySet[CustomDomain]) -> None:
        self._each(request, queryset, "Checked", domain_check)

    @admin.action(description="Release the selected domains (stop routing now; free to be claimed)",
                  permissions=["change"])
    def release(self, request: HttpRequest, queryset: QuerySet[CustomDomain]) -> None:
        self._each(request, queryset, "Released", domain_release)

    def _each(self, request: HttpRequest, queryset: QuerySet[CustomDomain], done_message: str,
              service: Callable[..., CustomDomain]) -> None:
        done = []
        for domain in queryset.select_related("tenant").order_by("pk"):
            try:
                after = service(domain=domain, now=timezone.now())
            except CustomDomainError as error:
                self.message_user(request, f"{domain.hostname}: {error.message}", messages.WARNING)
            else:
                done.append(f"{after.hostname} ({after.get_status_display().lower()})")
        if done:
            self.message_user(request, f"{done_message}: {', '.join(done)}.", messages.SUCCESS)
