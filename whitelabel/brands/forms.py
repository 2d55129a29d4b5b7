"""The Branding page's form: what staff type and upload, turned into the `data` brand_save takes. brand_save
alone decides what a brand may be (contrast, CSS policy, images); the form only checks the shape of each field."""

from __future__ import annotations

from typing import Any

from django import forms

from whitelabel.brands.images import FAVICON, LOGO
from whitelabel.models import Brand
from whitelabel.models.brands import HEX_COLOUR

COLOUR_WIDGET = forms.TextInput(attrs={"type": "color"})

# The Brand fields the page edits, in the order it shows them (the portal's landing text has its own page later).
TEXT_FIELDS = (
    "display_name", "primary_colour", "accent_colour", "custom_css", "support_url", "support_email",
    "legal_footer", "email_sender_name", "email_sender_address", "invoice_header", "invoice_footer",
    "show_powered_by",
)


class BrandForm(forms.Form):
    display_name = forms.CharField(max_length=100)
    logo = forms.FileField(required=False, help_text="PNG, JPEG or WebP; stored re-encoded as PNG.")
    logo_remove = forms.BooleanField(required=False, label="Remove the logo")
    favicon = forms.FileField(required=False, help_text="PNG, JPEG, WebP or ICO.")
    favicon_remove = forms.BooleanField(required=False, label="Remove the favicon")
    primary_colour = forms.CharField(validators=[HEX_COLOUR], widget=COLOUR_WIDGET,
                                     help_text="White or near-black text on it must reach WCAG AA (4.5:1).")
    accent_colour = forms.CharField(validators=[HEX_COLOUR], widget=COLOUR_WIDGET)
    custom_css = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 6}),
                                 label="Custom CSS", help_text="No <code>@import</code>, no <code>url()</code> "
                                 "to other hosts, no <code>expression</code> or <code>behavior</code>.")
    support_url = forms.URLField(required=False, max_length=200, label="Support link")
    support_email = forms.EmailField(required=False, max_length=254)
    legal_footer = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    email_sender_name = forms.CharField(required=False, max_length=100)
    email_sender_address = forms.EmailField(required=False, max_length=254,
                                            help_text="Used once its domain is authenticated.")
    invoice_header = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    invoice_footer = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    show_powered_by = forms.BooleanField(required=False, label="Show \u201cPowered by Tollgate\u201d")

    @classmethod
    def initial_for(cls, brand: Brand | None, *, display_name: str) -> dict[str, Any]:
        """The form's starting values: the saved brand's, or a new brand's defaults named after the tenant."""
        if brand is None:
            return {"display_name": display_name, "primary_colour": Brand._meta.get_field("primary_colour").default,
                    "accent_colour": Brand._meta.get_field("accent_colour").default, "show_powered_by": True}
        return {name: getattr(brand, name) for name in TEXT_FIELDS}

    def brand_data(self) -> dict[str, Any]:
        """brand_save's `data`: every text field, plus an image only when one was uploaded or removed."""
        data = {name: self.cleaned_data[name] for name in TEXT_FIELDS}
        for kind in (LOGO, FAVICON):
            if self.cleaned_data[kind]:
                data[kind] = self.cleaned_data[kind]
            elif self.cleaned_data[f"{kind}_remove"]:
                data[kind] = None
        return data
