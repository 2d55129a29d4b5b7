"""Which tax an invoice carries: exempt, EU reverse charge, the rate for the tenant's place, or none."""

from decimal import Decimal

import pytest
from django.test import override_settings

from billing.invoicing.tax import REVERSE_CHARGE_LEGEND, TAX_EXEMPT_LEGEND, tax_decide, vat_id_valid_for
from billing.models import BillingProfile, TaxRate

VALID_DE_VAT = "DE136695976"
VALID_FR_VAT = "FR40303265045"
VALID_IE_VAT = "IE6388047V"
VALID_GR_VAT = "EL094259216"


@pytest.fixture
def rates(db):
    """VAT in Germany and Ireland, and a California sales tax beside a US-wide one."""
    TaxRate.objects.create(name="VAT", percentage=Decimal("19"), country="DE")
    TaxRate.objects.create(name="VAT", percentage=Decimal("23"), country="IE")
    TaxRate.objects.create(name="Sales tax", percentage=Decimal("7.25"), country="US", region="CA")
    TaxRate.objects.create(name="Sales tax", percentage=Decimal("5"), country="US")
    TaxRate.objects.create(name="GST", percentage=Decimal("10"), country="AU", inclusive=True)


def profile(tenant, **fields) -> BillingProfile:
    return BillingProfile.objects.create(tenant=tenant, legal_name="Alpha GmbH", **fields)


def test_a_tenant_without_billing_details_pays_no_tax(rates):
    decision = tax_decide(profile=None)

    assert (decision.percentage, decision.legend) == (None, "")


def test_a_tax_exempt_tenant_pays_no_tax_and_the_invoice_says_so(rates, tenant_alpha):
    decision = tax_decide(profile=profile(tenant_alpha, country="DE", tax_exempt=True))

    assert (decision.percentage, decision.reverse_charge, decision.legend) == (None, False, TAX_EXEMPT_LEGEND)


def test_an_eu_business_in_another_country_with_a_valid_vat_id_is_reverse_charged(rates, tenant_alpha):
    decision = tax_decide(profile=profile(tenant_alpha, country="DE", tax_id=VALID_DE_VAT))

    assert (decision.name, decision.percentage, decision.reverse_charge, decision.legend) == (
        "VAT", Decimal(0), True, REVERSE_CHARGE_LEGEND)


def test_a_vat_id_with_wrong_check_digits_pays_the_countrys_vat(rates, tenant_alpha):
    decision = tax_decide(profile=profile(tenant_alpha, country="DE", tax_id="DE136695975"))

    assert (decision.percentage, decision.reverse_charge) == (Decimal("19"), False)


def test_a_valid_vat_id_of_another_country_does_not_reverse_charge_the_tenants_own(rates, tenant_alpha):
    decision = tax_decide(profile=profile(tenant_alpha, country="DE", tax_id=VALID_FR_VAT))

    assert (decision.percentage, decision.reverse_charge) == (Decimal("19"), False)


def test_a_business_in_the_issuers_own_country_pays_its_vat_even_with_a_valid_id(rates, tenant_alpha):
    decision = tax_decide(profile=profile(tenant_alpha, country="IE", tax_id=VALID_IE_VAT))

    assert (decision.percentage, decision.reverse_charge) == (Decimal("23"), False)


@override_settings(BILLING_ISSUER={"country": "US"})
def test_an_issuer_outside_the_eu_never_reverse_charges(rates, tenant_alpha):
    decision = tax_decide(profile=profile(tenant_alpha, country="DE", tax_id=VALID_DE_VAT))

    assert (decision.percentage, decision.reverse_charge) == (Decimal("19"), False)


def test_the_regions_rate_is_preferred_to_the_countrys(rates, tenant_alpha):
    decision = tax_decide(profile=profile(tenant_alpha, country="US", region="CA"))

    assert (decision.name, decision.percentage, decision.inclusive) == ("Sales tax", Decimal("7.25"), False)


def test_a_region_without_its_own_rate_pays_the_countrys(rates, tenant_alpha):
    decision = tax_decide(profile=profile(tenant_alpha, country="US", region="OR"))

    assert decision.percentage == Decimal("5")


def test_an_inclusive_rate_is_carried_as_inclusive(rates, tenant_alpha):
    decision = tax_decide(profile=profile(tenant_alpha, country="AU"))

    assert (decision.name, decision.percentage, decision.inclusive) == ("GST", Decimal("10"), True)


def test_a_country_without_a_rate_pays_no_tax(rates, tenant_alpha):
    decision = tax_decide(profile=profile(tenant_alpha, country="CH"))

    assert decision.percentage is None


def test_an_inactive_rate_is_not_applied(rates, tenant_alpha):
    TaxRate.objects.filter(country="DE").update(is_active=False)

    decision = tax_decide(profile=profile(tenant_alpha, country="DE"))

    assert decision.percentage is None


@pytest.mark.parametrize(("country", "tax_id", "valid"), [
    ("DE", VALID_DE_VAT, True),
    ("DE", "de 136.695-976", True),        # spaces, dots and dashes are ignored, case too
    ("DE", "136695976", True),             # the country prefix may be left out
    ("DE", VALID_FR_VAT, False),           # valid, but France's
    ("GR", VALID_GR_VAT, True),            # Greece's VAT IDs start with EL
    ("GR", "GR094259216", True),
    ("DE", "", False),
    ("DE", "DE", False),
])
def test_a_vat_id_is_valid_only_for_its_own_country(country, tax_id, valid):
    assert vat_id_valid_for(country=country, tax_id=tax_id) is valid
