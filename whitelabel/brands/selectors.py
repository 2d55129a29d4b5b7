"""Reads of brands: the brand a tenant's pages, emails and invoices wear."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from billing.selectors import entitlements_for
from config.lookup_cache import lookup_cached, lookup_key
from tenants.models import Tenant
from whitelabel.models import Brand


def brand_key(tenant_id: int) -> str:
    return lookup_key("brand", tenant_id)


def brand_for(*, tenant: Tenant) -> Brand | None:
    """The brand the tenant shows: its own, else its parent agency's, else None (Tollgate's look). A brand counts
    only while its owner's plan has the `white_label` entitlement, so a downgrade takes it off at once (and
    an upgrade puts it back) without touching the brand.

    Read on every branded page, so served from the per-process lookup cache (a tenant without any brand is
    cached too); brand_save forgets it, and the entitlements are checked on every read (they are cached too)."""
    found = lookup_cached(brand_key(tenant.pk), lambda: _brands_load(tenant))
    if found.own is not None and entitlements_for(tenant=tenant).white_label:
        return copy.copy(found.own)
    if found.agency is not None and entitlements_for(tenant=found.agency.tenant).white_label:
        return copy.copy(found.agency)
    return None


def brand_own(*, tenant: Tenant) -> Brand | None:
    """The tenant's own brand, whatever its plan says today (the Branding page edits it; brand_for decides
    whether it shows). Not cached: only the Branding page reads it."""
    return Brand.objects.filter(tenant=tenant).first()


@dataclass(frozen=True)
class _Brands:
    own: Brand | None
    agency: Brand | None


def _brands_load(tenant: Tenant) -> _Brands:
    owners = [tenant.pk] + ([tenant.parent_agency_id] if tenant.parent_agency_id else [])
    brands = {brand.tenant_id: brand for brand in Brand.objects.select_related("tenant").filter(tenant_id__in=owners)}
    return _Brands(own=brands.get(tenant.pk),
                   agency=brands.get(tenant.parent_agency_id) if tenant.parent_agency_id else None)
