"""Ops admin of brands (public host only): every tenant's brand with its colours, logo and sanitised CSS, and a
preview of the email layout under it (the Branding page's own preview, rendered from the saved brand). Read-only:
a brand is changed by its tenant on its Branding page, where brand_save sanitises, checks contrast and the plan;
an admin form would bypass all three."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import escape, format_html

from tenants.urls_for import tenant_url
from whitelabel.brands.preview import brand_preview
from whitelabel.models import Brand

FIELDS = ["tenant", "display_name", "colours", "logo_preview", "support_url", "support_email", "legal_footer",
          "email_sender_name", "email_sender_address", "invoice_header", "invoice_footer", "show_powered_by",
          "landing_title", "landing_text", "custom_css", "email_preview", "sign_in_page", "version", "created_at",
          "updated_at"]


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["display_name", "tenant", "colours", "show_powered_by", "version", "updated_at"]
    search_fields = ["display_name", "tenant__slug", "tenant__name"]
    list_select_related = ["tenant"]
    ordering = ["display_name"]
    fields = FIELDS
    readonly_fields = FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Brand | None = None) -> bool:
        # Viewable, never saved here (see the module's docstring).
        return False

    @admin.display(description="Colours")
    def colours(self, brand: Brand) -> str:
        return format_html(
            '<span style="display:inline-block;width:1.2em;height:1.2em;vertical-align:middle;background:{}"></span> '
            '{} <span style="display:inline-block;width:1.2em;height:1.2em;vertical-align:middle;background:{}">'
            '</span> {}', brand.primary_colour, brand.primary_colour, brand.accent_colour, brand.accent_colour)

    @admin.display(description="Logo")
    def logo_preview(self, brand: Brand) -> str:
        if not brand.logo:
            return "—"
        return format_html('<img src="{}" alt="" style="max-height:48px">', brand.logo.url)

    @admin.display(description="Email under this brand")
    def email_preview(self, brand: Brand) -> str:
        preview = brand_preview(saved=brand, values={}, files={}, tenant_name=brand.tenant.name)
        # srcdoc keeps the email's own styles out of the admin page (and the admin's out of the email); the email
        # is safe HTML, so escape() (which escapes even safe strings) makes it one attribute value.
        return format_html('<iframe title="Email preview" sandbox srcdoc="{}" '
                           'style="width:640px;height:480px;border:1px solid #ccc"></iframe>',
                           escape(preview.email_html))

    @admin.display(description="Sign-in page")
    def sign_in_page(self, brand: Brand) -> str:
        url = tenant_url(brand.tenant, "/accounts/login/")
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)
