"""Which tax an invoice carries, decided once per invoice from the tenant's billing profile.

In order:
1. a tax-exempt tenant pays none ("Tax exempt");
2. an EU business billed from another EU country, with a VAT ID that looks valid for its own country (python-stdnum's
   check digits; nobody asks VIES here), is reverse-charged: 0 % with the legend the directive requires;
3. otherwise the active rate ops set for the tenant's country and region, else for the whole country;
4. otherwise none (no profile, no country, or no rate for it).

The invoice copies the decision (name, percentage, inclusive, legend), so a later change of rate never alters an
invoice already written; billing.invoicing.totals computes the tax from those copied fields."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from stdnum.eu import vat

from billing.models import BillingProfile, TaxRate

EU_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV",
    "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
# Greece's VAT IDs start with EL, its ISO code GR being tolerated.
VAT_PREFIXES = {"GR": ("EL", "GR")}
REVERSE_CHARGE_LEGEND = ("Reverse charge: VAT to be accounted for by the recipient "
                         "(Art. 196 Directive 2006/112/EC)")
TAX_EXEMPT_LEGEND = "Tax exempt"
ZERO = Decimal(0)


@dataclass(frozen=True)
class TaxDecision:
    """The tax an invoice carries. `percentage` None means no tax at all (nothing to show); 0 with a legend is a
    decision the invoice must state (reverse charge)."""

    name: str
    percentage: Decimal | None
    inclusive: bool
    reverse_charge: bool
    legend: str


NO_TAX = TaxDecision(name="", percentage=None, inclusive=False, reverse_charge=False, legend="")


def tax_decide(*, profile: BillingProfile | None) -> TaxDecision:
    """The tax for an invoice addressed to `profile` (None: the tenant gave no billing details)."""
    if profile is None:
        return NO_TAX
    if profile.tax_exempt:
        return TaxDecision(name="", percentage=None, inclusive=False, reverse_charge=False, legend=TAX_EXEMPT_LEGEND)
    if reverse_charge_applies(country=profile.country, tax_id=profile.tax_id):
        return TaxDecision(name="VAT", percentage=ZERO, inclusive=False, reverse_charge=True,
                           legend=REVERSE_CHARGE_LEGEND)
    rate = _tax_rate_for(country=profile.country, region=profile.region)
    if rate is None:
        return NO_TAX
    return TaxDecision(name=rate.name, percentage=rate.percentage, inclusive=rate.inclusive, reverse_charge=False,
                       legend="")


def reverse_charge_applies(*, country: str, tax_id: str) -> bool:
    """An EU customer outside the issuer's country whose VAT ID looks valid and is its own country's (a German
    company quoting a French number is not reverse-charged in Germany's name)."""
    issuer_country = settings.BILLING_ISSUER["country"]
    if country not in EU_COUNTRIES or issuer_country not in EU_COUNTRIES or country == issuer_country:
        return False
    return vat_id_valid_for(country=country, tax_id=tax_id)


def vat_id_valid_for(*, country: str, tax_id: str) -> bool:
    """Whether `tax_id` is a well-formed VAT ID (check digits included) of `country`. The country prefix may be
    left out ("136695976" for DE); spaces, dots and dashes are ignored."""
    if not tax_id.strip():
        return False
    prefixes = VAT_PREFIXES.get(country, (country,))
    number = re.sub(r"[\s.\-/]", "", tax_id).upper()
    if number[:2].isalpha():
        if number[:2] not in prefixes:
            return False
    else:
        number = prefixes[0] + number
    return vat.is_valid(number)


def _tax_rate_for(*, country: str, region: str) -> TaxRate | None:
    if not country:
        return None
    rates = {rate.region: rate for rate in TaxRate.objects.filter(country=country, region__in={region, ""},
                                                                   is_active=True)}
    return rates.get(region) or rates.get("")
