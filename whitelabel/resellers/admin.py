"""Ops admin of reseller billing (public host only): agencies' price lists (each beside its wholesale price),
their invoicing details, and the invoices they issued to their clients with read-only lines. Ops read these; the
agency sets its prices and marks its invoices paid or void itself (its pages or the API), so rows are not edited
here: a price below wholesale or a rewritten issued invoice would slip past the services' rules."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from config.money import Money, money_format
from whitelabel.models import ResellerInvoice, ResellerInvoiceLine, ResellerPrice, ResellerSettings
from whitelabel.resellers.selectors import tollgate_prices, wholesale_of, wholesale_percent_off


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ResellerPrice)
class ResellerPriceAdmin(_ReadOnlyAdmin):
    list_display = ["agency", "plan", "interval", "currency", "amount", "wholesale", "is_active", "updated_at"]
    list_filter = ["is_active", "currency", "interval", "plan"]
    search_fields = ["agency__slug", "agency__name", "plan__code"]
    list_select_related = ["agency", "plan"]

    @admin.display(description="Wholesale now")
    def wholesale(self, price: ResellerPrice) -> str:
        listed = tollgate_prices().get((price.plan.code, price.interval, price.currency))
        if listed is None:
            return "-"
        return money_format(wholesale_of(listed.fixed_money, percent_off=wholesale_percent_off(agency=price.agency)))


@admin.register(ResellerSettings)
class ResellerSettingsAdmin(_ReadOnlyAdmin):
    list_display = ["agency", "legal_name", "number_prefix", "tax_name", "tax_percentage", "payment_terms_days"]
    search_fields = ["agency__slug", "agency__name", "legal_name"]
    list_select_related = ["agency"]


class ResellerInvoiceLineInline(admin.TabularInline):
    model = ResellerInvoiceLine
    fields = ["description", "kind", "quantity", "unit_amount", "amount", "list_amount", "pricing", "taxable"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ResellerInvoice)
class ResellerInvoiceAdmin(_ReadOnlyAdmin):
    list_display = ["number", "agency", "client", "status", "issued_at", "total_shown", "wholesale_shown",
                    "margin_shown", "list_price_used"]
    list_filter = ["status", "list_price_used", "currency"]
    search_fields = ["number", "agency__slug", "client__slug", "source_invoice__number"]
    list_select_related = ["agency", "client"]
    date_hierarchy = "issued_at"
    inlines = [ResellerInvoiceLineInline]
    readonly_fields = ["agency", "client", "source_invoice", "number", "status", "currency", "subtotal", "tax_name",
                       "tax_percentage", "tax_total", "total", "wholesale_amount", "list_price_used", "period_start",
                       "period_end", "issuer", "customer", "issued_at", "due_at", "paid_at", "voided_at",
                       "status_changed_by"]
    fields = readonly_fields

    @admin.display(description="Total")
    def total_shown(self, invoice: ResellerInvoice) -> str:
        return money_format(Money(invoice.total, invoice.currency))

    @admin.display(description="Wholesale")
    def wholesale_shown(self, invoice: ResellerInvoice) -> str:
        return money_format(Money(invoice.wholesale_amount, invoice.currency))

    @admin.display(description="Margin")
    def margin_shown(self, invoice: ResellerInvoice) -> str:
        return money_format(Money(invoice.margin, invoice.currency))
