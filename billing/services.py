"""Writes on the plan catalogue. Assignments are made by ops in admin until subscriptions arrive with billing."""

import re

from django.db import transaction

from billing.errors import BillingError
from billing.invoicing.tax import EU_COUNTRIES, vat_id_valid_for
from billing.models import BillingProfile, Plan, TenantPlan
from tenants.models import Tenant


@transaction.atomic
def tenant_plan_assign(*, tenant: Tenant, plan: Plan) -> TenantPlan:
    """Put the tenant on the plan (replacing its current one). Every process sees the new entitlements on its
    next request (billing.signals forgets the cached ones)."""
    assignment, _ = TenantPlan.objects.update_or_create(tenant=tenant, defaults={"plan": plan})
    return assignment


class BillingProfileInvalid(BillingError):
    code = "billing_profile_invalid"


# What a tenant may edit; tax exemption, net terms and manual collection are ops' decisions, made in admin.
BILLING_PROFILE_FIELDS = ("legal_name", "email", "address_line1", "address_line2", "city", "postal_code", "region",
                          "country", "tax_id")


@transaction.atomic
def billing_profile_update(*, tenant: Tenant, legal_name: str, email: str, address_line1: str, address_line2: str,
                           city: str, postal_code: str, region: str, country: str, tax_id: str) -> BillingProfile:
    """Save who the tenant's invoices are addressed to. Invoices already issued keep the details they were issued
    with (their own copy); the next one reads these. An EU country's tax ID must be a well-formed VAT number of
    that country, since it decides the reverse charge: a typo would otherwise silently bring VAT back."""
    country = country.strip().upper()
    tax_id = re.sub(r"\s+", "", tax_id).upper()
    if country and not re.fullmatch(r"[A-Z]{2}", country):
        raise BillingProfileInvalid("Use the two-letter country code, e.g. DE or US.", field="country")
    if tax_id and country in EU_COUNTRIES and not vat_id_valid_for(country=country, tax_id=tax_id):
        raise BillingProfileInvalid(f"This is not a valid VAT number for {country}: check its digits and prefix.",
                                    field="tax_id")
    values = {"legal_name": legal_name.strip(), "email": email.strip(), "address_line1": address_line1.strip(),
              "address_line2": address_line2.strip(), "city": city.strip(), "postal_code": postal_code.strip(),
              "region": region.strip().upper(), "country": country, "tax_id": tax_id}
    profile, _ = BillingProfile.objects.update_or_create(tenant=tenant, defaults=values)
    return profile
