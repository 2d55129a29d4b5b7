"""The revenue dashboard in the ops admin: "Revenue dashboard" under Billing on the admin index opens it (the
changelist of the snapshots is the dashboard), with its CSV exports beside it. Inside the admin, so it has the
admin's door: staff only, signed in through allauth with MFA (accounts.ops_admin), public host only."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from billing.analytics.views import dashboard_csv, dashboard_page_context
from billing.models import RevenueSnapshot
from config.admin import ReadOnlyAdminMixin


@admin.register(RevenueSnapshot)
class RevenueDashboardAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    def get_urls(self) -> list[URLPattern]:
        export = path("export/<slug:table>.csv", self.admin_site.admin_view(self.export_view),
                      name="billing_revenue_export")
        return [export, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return TemplateResponse(request, "billing/analytics/dashboard.html", {
            **self.admin_site.each_context(request),
            "title": "Revenue dashboard",
            "opts": self.model._meta,
            # The page is wide and read often: no sidebar listing every model (rendering it costs as much as a
            # table); the breadcrumbs lead back to the index.
            "is_nav_sidebar_enabled": False,
            **dashboard_page_context(request),
        })

    def export_view(self, request: HttpRequest, table: str) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return dashboard_csv(table_key=table, currency=request.GET.get("currency"))
