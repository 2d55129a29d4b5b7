"""The one email layout (templates/email/layout.html and layout.txt): a content fragment dressed in a brand's name,
logo, colours, legal footer and support link, or in Tollgate's own look when the workspace shows no brand.

Pure rendering: the brand comes in as an `EmailBrand` (built from a saved Brand by `email_brand_of`, or from the
Branding page's preview), so the real emails and the preview go through the same templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.template import TemplateDoesNotExist
from django.template.defaultfilters import linebreaks_filter
from django.template.loader import render_to_string
from django.utils.html import urlize

from whitelabel.brands.contrast import TEXT_DARK, TEXT_LIGHT, text_colour_on
from whitelabel.models import Brand

LAYOUT_TEMPLATE = "email/layout"
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class EmailBrand:
    """What the layout shows. Every field is text the layout escapes; colours are #RRGGBB (checked again here,
    since they land in style attributes) and links are http(s) only."""

    name: str
    primary_colour: str
    primary_text: str
    accent_colour: str  # a bar under the header: decoration, never behind text
    logo_url: str = ""
    legal_footer: str = ""
    support_url: str = ""
    support_email: str = ""
    show_powered_by: bool = False
    is_tollgate: bool = False

    @property
    def link_colour(self) -> str:
        """Links on the white page: the primary colour when it carries white text (so white reads on it, and it
        on white), else near-black."""
        return self.primary_colour if self.primary_text == TEXT_LIGHT else TEXT_DARK


TOLLGATE = EmailBrand(name="Tollgate", primary_colour="#4f46e5", primary_text="#ffffff", accent_colour="#4f46e5",
                      is_tollgate=True)


def email_brand_make(*, name: str, primary_colour: str, accent_colour: str, logo_url: str = "",
                     legal_footer: str = "", support_url: str = "", support_email: str = "",
                     show_powered_by: bool = True) -> EmailBrand:
    """An EmailBrand from a brand's values, whatever their origin: a colour that is not #RRGGBB falls back to
    Tollgate's, a support link that is not http(s) is left out."""
    primary = primary_colour.lower() if COLOUR.match(primary_colour or "") else TOLLGATE.primary_colour
    accent = accent_colour.lower() if COLOUR.match(accent_colour or "") else TOLLGATE.accent_colour
    return EmailBrand(
        name=name, primary_colour=primary, primary_text=text_colour_on(primary), accent_colour=accent,
        logo_url=logo_url, legal_footer=legal_footer,
        support_url=support_url if support_url.startswith(("https://", "http://")) else "",
        support_email=support_email, show_powered_by=show_powered_by,
    )


def email_brand_of(brand: Brand, *, base_url: str, show_powered_by: bool) -> EmailBrand:
    """The saved brand as the layout shows it. A logo stored under a relative URL (the filesystem storage) is
    made absolute on `base_url`, since a mail client has no page to resolve it against."""
    logo_url = brand.logo.url if brand.logo else ""
    if logo_url.startswith("/"):
        logo_url = f"{base_url}{logo_url}"
    return email_brand_make(name=brand.display_name, primary_colour=brand.primary_colour,
                            accent_colour=brand.accent_colour, logo_url=logo_url, legal_footer=brand.legal_footer,
                            support_url=brand.support_url, support_email=brand.support_email,
                            show_powered_by=show_powered_by)


@dataclass(frozen=True)
class LaidOut:
    text: str
    html: str


def email_lay_out(*, email_brand: EmailBrand, subject: str, template: str, context: dict[str, Any],
                  base_url: str = "", rebase_from: str = "") -> LaidOut:
    """`<template>.txt` and `<template>.html` (the text, escaped, when there is no HTML) rendered with `context`
    and `email_brand`, inside the layout. Links starting with `rebase_from` (the workspace's own host) are moved
    onto `base_url` (its active custom domain), in the content and the layout alike."""
    content_context = {**context, "email_brand": email_brand, "base_url": base_url}
    content_text = render_to_string(f"{template}.txt", content_context).strip()
    try:
        content_html = render_to_string(f"{template}.html", content_context).strip()
    except TemplateDoesNotExist:
        content_html = linebreaks_filter(urlize(content_text, autoescape=True), autoescape=False)
    layout_context = {"email_brand": email_brand, "subject": subject, "base_url": base_url,
                      "content_text": content_text, "content_html": content_html}
    text = render_to_string(f"{LAYOUT_TEMPLATE}.txt", layout_context)
    html = render_to_string(f"{LAYOUT_TEMPLATE}.html", layout_context)
    if rebase_from and base_url and rebase_from != base_url:
        text, html = links_rebase(text, rebase_from, base_url), links_rebase(html, rebase_from, base_url)
    return LaidOut(text=text, html=html)


def links_rebase(content: str, old_base: str, new_base: str) -> str:
    """Every link on `old_base` (scheme://host[:port]) moved onto `new_base`, path and query kept. Only a whole
    host matches: http://acme.localhost never rewrites http://acme.localhost.example.com."""
    return re.sub(re.escape(old_base) + r"(?=[/?#\"'<>\s]|$)", lambda _: new_base, content)


PREVIEW_TEMPLATE = "accounts/email/invitation"


def email_preview_html(*, email_brand: EmailBrand, workspace_name: str, now: datetime) -> str:
    """An invitation as the brand's people would get it: the Branding page's email preview, through the real
    layout and content template (nothing is sent)."""
    context = {"workspace_name": workspace_name, "role": "Member", "inviter": f"Sam from {workspace_name}",
               "accept_url": "#", "expires_at": now + timedelta(days=7)}
    return email_lay_out(email_brand=email_brand, subject=f"You're invited to join {workspace_name}",
                         template=PREVIEW_TEMPLATE, context=context).html
