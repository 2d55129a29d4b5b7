"""Writes of brands: one save that checks everything a brand must be before any of it is kept."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, BinaryIO

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from billing.selectors import entitlements_for
from config.lookup_cache import lookup_forget
from tenants.models import Tenant
from whitelabel.brands.contrast import colour_contrast_check
from whitelabel.brands.css import css_sanitise
from whitelabel.brands.exceptions import BrandError, WhiteLabelNotInPlan
from whitelabel.brands.images import FAVICON, LOGO, image_clean, image_delete, image_store
from whitelabel.brands.selectors import brand_key
from whitelabel.models import Brand

logger = logging.getLogger(__name__)

# What a tenant may set; anything else in `data` is refused (the API's serializer already keeps to these).
TEXT_FIELDS = frozenset({
    "display_name", "primary_colour", "accent_colour", "custom_css", "support_url", "support_email",
    "legal_footer", "email_sender_name", "email_sender_address", "invoice_header", "invoice_footer",
    "show_powered_by", "landing_title", "landing_text",
})
IMAGE_FIELDS = (LOGO, FAVICON)


class BrandInvalid(BrandError):
    code = "brand_invalid"


def brand_save(*, tenant: Tenant, data: dict[str, Any], now: datetime) -> Brand:
    """Create or change the tenant's brand with the fields in `data` (fields left out keep their value; a new
    brand starts from the model's defaults). `logo` and `favicon` are an uploaded file to store, or None to
    remove the current one. Returns the saved brand, its `version` one higher.

    Refused, with nothing kept: without the plan's `white_label` entitlement (402 plan_upgrade_required), hiding
    "Powered by Tollgate" without the plan's `remove_powered_by` (a brand hidden earlier stays so: the pages
    show it again while the plan lacks the flag, whitelabel.brands.rendering.powered_by_shown), with
    a field the model rejects, CSS outside whitelabel.brands.css's policy, colours whose text would miss WCAG AA,
    or an image images.py refuses. Images are checked before anything is stored; new files are stored before the
    row is saved (and deleted again if the save fails), replaced ones are deleted once the save has committed,
    so a brand never points to a missing file. Every process sees the new brand on its next request."""
    entitlements = entitlements_for(tenant=tenant, now=now)
    if not entitlements.white_label:
        raise WhiteLabelNotInPlan("Branding needs a plan with white-label (upgrade to the White-Label plan).")
    unknown = set(data) - TEXT_FIELDS - set(IMAGE_FIELDS)
    if unknown:
        raise BrandInvalid(f"Unknown brand fields: {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    images = {kind: _image_cleaned(data[kind], kind=kind) for kind in IMAGE_FIELDS if kind in data}
    stored: dict[str, str] = {}
    try:
        with transaction.atomic():
            brand = _brand_locked(tenant=tenant, now=now)
            hidden_before = not brand.show_powered_by
            for name in TEXT_FIELDS & set(data):
                setattr(brand, name, data[name])
            if not brand.show_powered_by and not hidden_before and not entitlements.remove_powered_by:
                raise BrandInvalid("Hiding \u201cPowered by Tollgate\u201d needs a plan that removes it (the "
                                   "White-Label plan).", field="show_powered_by")
            _brand_check(brand)
            replaced = []
            for kind, png in images.items():
                replaced.append(getattr(brand, kind).name)
                stored[kind] = image_store(png, kind=kind, owner=tenant.slug) if png is not None else ""
                setattr(brand, kind, stored[kind])
            brand.version += 1
            brand.updated_at = now
            brand.save()
            lookup_forget(brand_key(tenant.pk))
            transaction.on_commit(lambda: _images_delete(replaced))
    except BaseException:
        _images_delete(list(stored.values()))
        raise
    logger.info("brand_saved tenant=%s version=%s", tenant.slug, brand.version)
    return brand


def _brand_locked(*, tenant: Tenant, now: datetime) -> Brand:
    """The tenant's brand, locked until the transaction ends; a new one (not yet saved) when it has none. Two
    first saves at once: the loser's insert fails on the one-brand-per-tenant constraint, and it edits the
    winner's brand instead."""
    brand = Brand.objects.select_for_update().filter(tenant=tenant).first()
    if brand is not None:
        return brand
    try:
        with transaction.atomic():
            return Brand.objects.create(tenant=tenant, display_name=tenant.name, version=0, created_at=now,
                                        updated_at=now)
    except IntegrityError:
        return Brand.objects.select_for_update().get(tenant=tenant)


def _brand_check(brand: Brand) -> None:
    try:
        brand.full_clean(exclude=["tenant", LOGO, FAVICON])
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise BrandInvalid(f"{field}: {' '.join(messages)}", field=field,
                           details={"fields": error.message_dict}) from None
    brand.primary_colour, brand.accent_colour = brand.primary_colour.lower(), brand.accent_colour.lower()
    brand.custom_css = css_sanitise(brand.custom_css)
    colour_contrast_check(brand.primary_colour, brand.accent_colour)


def _image_cleaned(upload: BinaryIO | None, *, kind: str) -> bytes | None:
    return None if upload is None else image_clean(upload, kind=kind)


def _images_delete(names: list[str]) -> None:
    for name in names:
        try:
            image_delete(name)
        except OSError:
            # A file left behind costs storage, not correctness: the brand no longer points to it.
            logger.warning("brand_image_delete_failed name=%s", name)
