"""Ops' view of reseller mode's arrangements (who is billed through whom, at what discount, since when), read
only: agencies start and end them with their earnings mode (affiliates' agency admin); the consolidated invoices
are invoices, in the invoice admin (billing reason "Consolidated")."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from billing.models import ConsolidatedBilling
from config.admin import ReadOnlyAdminMixin


@admin.register(ConsolidatedBilling)
class ConsolidatedBillingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["client", "payer", "wholesale_discount_percent", "started_at", "ended_at"]
    list_filter = [("ended_at", admin.EmptyFieldListFilter)]
    search_fields = ["client__slug", "client__name", "payer__slug", "payer__name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ConsolidatedBilling]:
        return super().get_queryset(request).select_related("client", "payer")
