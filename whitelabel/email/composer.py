"""The implementation behind config.mail (settings.EMAIL_COMPOSER): every transactional email of a workspace in
its brand's layout, from its brand's sender; platform mail (the public schema, a workspace without a brand) in
Tollgate's.

The brand is the one the workspace shows (whitelabel.brands.selectors.brand_for: its own, else its agency's,
while the owner's plan has white_label). Links to the workspace's own host are written on its active custom
domain when it has one. "Powered by Tollgate" shows unless the brand hides it and its owner's plan lets it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.mail import EmailMultiAlternatives

from billing.selectors import entitlements_for
from config.mail import RenderedEmail
from tenants.models import Tenant
from tenants.selectors import tenant_for_schema
from tenants.urls_for import public_url, tenant_url
from whitelabel.brands.selectors import brand_for
from whitelabel.domains.selectors import tenant_public_base_url
from whitelabel.email.rendering import TOLLGATE, EmailBrand, email_brand_of, email_lay_out
from whitelabel.email.selectors import sender_domain_for
from whitelabel.email.sender import email_sender
from whitelabel.models import Brand


def email_render(*, schema_name: str, subject: str, template: str, context: dict[str, Any]) -> RenderedEmail:
    look = _look(schema_name)
    laid = email_lay_out(email_brand=look.email_brand, subject=subject, template=template, context=context,
                         base_url=look.base_url, rebase_from=look.own_base_url)
    return RenderedEmail(subject=subject, text=laid.text, html=laid.html)


def email_message(*, schema_name: str, email: RenderedEmail, to: list[str]) -> EmailMultiAlternatives:
    brand = _brand(_tenant(schema_name))
    sender = email_sender(brand=brand, sender_domain=sender_domain_for(brand=brand) if brand else None)
    message = EmailMultiAlternatives(subject=email.subject, body=email.text, from_email=sender.from_email, to=to,
                                     reply_to=list(sender.reply_to))
    if email.html:
        message.attach_alternative(email.html, "text/html")
    return message


@dataclass(frozen=True)
class _Look:
    email_brand: EmailBrand
    base_url: str  # where links point: the workspace's custom domain, its own host, or the public site
    own_base_url: str  # the workspace's own host, whose links move to base_url


def _look(schema_name: str) -> _Look:
    tenant = _tenant(schema_name)
    if tenant is None:
        return _Look(email_brand=TOLLGATE, base_url=public_url(""), own_base_url="")
    base_url = tenant_public_base_url(tenant)
    brand = _brand(tenant)
    if brand is None:
        return _Look(email_brand=TOLLGATE, base_url=base_url, own_base_url=tenant_url(tenant, ""))
    shown = brand.show_powered_by or not entitlements_for(tenant=brand.tenant).remove_powered_by
    return _Look(email_brand=email_brand_of(brand, base_url=base_url, show_powered_by=shown), base_url=base_url,
                 own_base_url=tenant_url(tenant, ""))


def _tenant(schema_name: str) -> Tenant | None:
    tenant = tenant_for_schema(schema_name)
    return None if tenant is None or tenant.is_public else tenant


def _brand(tenant: Tenant | None) -> Brand | None:
    return brand_for(tenant=tenant) if tenant is not None else None
