"""What a branded page reads: the brand the tenant shows (its own, else its agency's) turned into values a
template can put on the page as they are, and the "Powered by Tollgate" rule."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from django.template.loader import render_to_string

from billing.selectors import entitlements_for
from tenants.models import Tenant
from whitelabel.brands.contrast import text_colour_on
from whitelabel.brands.selectors import brand_for
from whitelabel.models import Brand


@dataclass(frozen=True)
class BrandLook:
    display_name: str
    logo_url: str
    favicon_url: str
    primary_colour: str
    primary_text: str
    accent_colour: str
    accent_text: str
    custom_css: str  # sanitised on save; served in the brand's stylesheet, never inline (config/csp.py)
    support_url: str
    support_email: str
    legal_footer: str
    landing_title: str
    landing_text: str
    powered_by: bool
    stylesheet_version: str = ""  # /branding/brand.css?v=<this>: a new URL whenever the stylesheet changes


def powered_by_shown(brand: Brand) -> bool:
    """"Powered by Tollgate" shows unless the brand hides it and its owner's plan has `remove_powered_by`: a
    brand saved hidden on such a plan shows it again after a downgrade, without being edited."""
    return brand.show_powered_by or not entitlements_for(tenant=brand.tenant).remove_powered_by


def brand_look(*, tenant: Tenant) -> BrandLook | None:
    """The brand `tenant`'s pages wear, or None for Tollgate's own look."""
    brand = brand_for(tenant=tenant)
    if brand is None:
        return None
    look = BrandLook(
        display_name=brand.display_name, logo_url=brand.logo.url if brand.logo else "",
        favicon_url=brand.favicon.url if brand.favicon else "",
        primary_colour=brand.primary_colour, primary_text=text_colour_on(brand.primary_colour),
        accent_colour=brand.accent_colour, accent_text=text_colour_on(brand.accent_colour),
        custom_css=brand.custom_css, support_url=brand.support_url,
        support_email=brand.support_email, legal_footer=brand.legal_footer, landing_title=brand.landing_title,
        landing_text=brand.landing_text, powered_by=powered_by_shown(brand),
    )
    return replace(look, stylesheet_version=stylesheet_version(brand_stylesheet(look)))


def brand_stylesheet(look: BrandLook) -> str:
    """The brand's stylesheet (templates/whitelabel/brands/brand.css): its colours, then its custom CSS."""
    return render_to_string("whitelabel/brands/brand.css", {"brand": look})


def stylesheet_version(stylesheet: str) -> str:
    return hashlib.sha256(stylesheet.encode()).hexdigest()[:16]
