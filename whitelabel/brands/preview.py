"""The Branding page's live preview: the brand as typed, before it is saved, as the values its templates read.

Lenient where brand_save is strict: a value that would be refused falls back to the saved one (or the default)
and the reason is listed, so the preview keeps showing while staff type. Nothing here stores anything: an
uploaded logo is shown as a data URL of its re-encoded PNG."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from whitelabel.brands.contrast import text_colour_on
from whitelabel.brands.css import css_sanitise
from whitelabel.brands.exceptions import BrandCssInvalid, BrandImageInvalid
from whitelabel.brands.forms import BrandForm
from whitelabel.brands.images import LOGO, image_clean
from whitelabel.email.rendering import email_brand_make, email_preview_html
from whitelabel.models import Brand
from whitelabel.models.brands import HEX_COLOUR


@dataclass(frozen=True)
class BrandPreview:
    display_name: str
    logo_url: str
    primary_colour: str
    primary_text: str
    accent_colour: str
    accent_text: str
    custom_css: str
    support_url: str
    support_email: str
    legal_footer: str
    email_sender_name: str
    email_sender_address: str
    invoice_header: str
    invoice_footer: str
    show_powered_by: bool
    email_html: str = ""  # an invitation through the real email layout (whitelabel.email.rendering)
    problems: list[str] = field(default_factory=list)


def brand_preview(*, saved: Brand | None, values: Mapping[str, Any], files: Mapping[str, UploadedFile],
                  tenant_name: str) -> BrandPreview:
    """The preview of `values` (the form as posted; the saved brand's fields where they are missing)."""
    base = BrandForm.initial_for(saved, display_name=tenant_name)
    problems: list[str] = []

    def text(name: str) -> str:
        return str(values.get(name, base.get(name) or ""))

    primary, accent = (_colour(text(name), fallback=base[name], problems=problems)
                       for name in ("primary_colour", "accent_colour"))
    preview = BrandPreview(
        display_name=text("display_name") or tenant_name,
        logo_url=_logo_url(saved, values=values, files=files, problems=problems),
        primary_colour=primary, primary_text=text_colour_on(primary),
        accent_colour=accent, accent_text=text_colour_on(accent),
        custom_css=_css(text("custom_css"), problems=problems),
        support_url=text("support_url"), support_email=text("support_email"), legal_footer=text("legal_footer"),
        email_sender_name=text("email_sender_name") or text("display_name") or tenant_name,
        email_sender_address=text("email_sender_address"),
        invoice_header=text("invoice_header"), invoice_footer=text("invoice_footer"),
        # A posted form leaves out an unticked checkbox; a brand never posted keeps its saved choice.
        show_powered_by=bool(values.get("show_powered_by")) if "display_name" in values else base["show_powered_by"],
        problems=problems,
    )
    return replace(preview, email_html=_email_html(preview))


def _email_html(preview: BrandPreview) -> str:
    email_brand = email_brand_make(
        name=preview.display_name, primary_colour=preview.primary_colour, accent_colour=preview.accent_colour,
        logo_url=preview.logo_url, legal_footer=preview.legal_footer, support_url=preview.support_url,
        support_email=preview.support_email, show_powered_by=preview.show_powered_by)
    return email_preview_html(email_brand=email_brand, workspace_name=preview.display_name, now=timezone.now())


def _colour(value: str, *, fallback: str, problems: list[str]) -> str:
    try:
        HEX_COLOUR(value)
    except ValidationError:
        problems.append(f"{value!r} is not a colour as #RRGGBB; the preview keeps {fallback}.")
        return fallback
    return value.lower()


def _css(value: str, *, problems: list[str]) -> str:
    try:
        # Inside the preview's <style>: "</" could close the element, and CSS reads "<\/" as the same text.
        return css_sanitise(value).replace("</", "<\\/")
    except BrandCssInvalid as error:
        problems.append(f"{error.message} The preview leaves it out.")
        return ""


def _logo_url(saved: Brand | None, *, values: Mapping[str, Any], files: Mapping[str, UploadedFile],
              problems: list[str]) -> str:
    upload = files.get(LOGO)
    if upload is not None:
        try:
            return "data:image/png;base64," + base64.b64encode(image_clean(upload, kind=LOGO)).decode()
        except BrandImageInvalid as error:
            problems.append(error.message)
    if values.get("logo_remove") or saved is None or not saved.logo:
        return ""
    return saved.logo.url
