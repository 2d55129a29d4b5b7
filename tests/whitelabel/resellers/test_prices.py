"""Reseller price lists: at or above wholesale (the plan's Tollgate price less the agency's discount), in a currency
and interval Tollgate sells the plan in, only for agencies in reseller mode on a plan with white_label."""

from decimal import Decimal

import pytest
from django.utils import timezone

from affiliates.agencies.exceptions import NotAnAgency
from affiliates.models import AgencyProfile
from tests.support.resellers import reseller_make
from whitelabel.brands.exceptions import WhiteLabelNotInPlan
from whitelabel.models import ResellerPrice
from whitelabel.resellers.exceptions import (
    NotAReseller,
    ResellerPriceBelowWholesale,
    ResellerPriceCurrencyUnavailable,
    ResellerPriceInvalid,
)
from whitelabel.resellers.selectors import reseller_price_list, reseller_prices_active
from whitelabel.resellers.services import reseller_prices_set

pytestmark = pytest.mark.django_db


def price(plan="starter", amount="25.00", interval="month", currency="USD"):
    return {"plan": plan, "interval": interval, "currency": currency, "amount": amount}


def test_a_price_at_wholesale_is_set():
    agency = reseller_make()  # 20 % off starter's 19.00 USD: 15.20
    [row] = reseller_prices_set(agency=agency, entries=[price(amount="15.20")], now=timezone.now())
    assert (row.plan.code, row.amount, row.currency, row.is_active) == ("starter", Decimal("15.20"), "USD", True)


def test_a_price_below_wholesale_is_refused_with_the_wholesale_figure():
    agency = reseller_make()
    with pytest.raises(ResellerPriceBelowWholesale) as refused:
        reseller_prices_set(agency=agency, entries=[price(amount="15.19")], now=timezone.now())
    assert refused.value.field == "amount"
    assert refused.value.details["wholesale"] == {"amount": "15.20", "currency": "USD"}
    assert "15.20 USD" in refused.value.message
    assert not ResellerPrice.objects.filter(agency=agency).exists()


def test_one_refused_entry_sets_none_of_the_others():
    agency = reseller_make()
    with pytest.raises(ResellerPriceBelowWholesale) as refused:
        reseller_prices_set(agency=agency, entries=[price(amount="30.00"), price(plan="pro", amount="1.00")],
                            now=timezone.now())
    assert refused.value.details["index"] == 1
    assert not ResellerPrice.objects.filter(agency=agency).exists()


def test_a_currency_the_plan_is_not_sold_in_is_refused():
    agency = reseller_make()
    with pytest.raises(ResellerPriceCurrencyUnavailable) as refused:
        reseller_prices_set(agency=agency, entries=[price(currency="GBP")], now=timezone.now())
    assert refused.value.field == "currency" and "EUR (month)" in refused.value.details["offered"]


def test_an_interval_the_plan_is_not_sold_on_is_refused():
    with pytest.raises(ResellerPriceCurrencyUnavailable):
        reseller_prices_set(agency=reseller_make(), entries=[price(interval="quarter")], now=timezone.now())


@pytest.mark.parametrize("amount", ["-1", "abc", "NaN", "Infinity", "25.001", "1e12"])
def test_a_malformed_or_negative_amount_is_refused(amount):
    with pytest.raises(ResellerPriceInvalid) as refused:
        reseller_prices_set(agency=reseller_make(), entries=[price(amount=amount)], now=timezone.now())
    assert refused.value.field == "amount"


def test_an_unknown_plan_is_refused():
    with pytest.raises(ResellerPriceInvalid) as refused:
        reseller_prices_set(agency=reseller_make(), entries=[price(plan="enterprise")], now=timezone.now())
    assert refused.value.field == "plan"


def test_an_agency_in_referral_mode_cannot_set_prices():
    agency = reseller_make(mode=AgencyProfile.EarningsMode.REFERRAL)
    with pytest.raises(NotAReseller):
        reseller_prices_set(agency=agency, entries=[price()], now=timezone.now())


def test_a_reseller_without_white_label_cannot_set_prices():
    with pytest.raises(WhiteLabelNotInPlan):
        reseller_prices_set(agency=reseller_make(plan_code="agency"), entries=[price()], now=timezone.now())


def test_a_workspace_that_is_no_agency_cannot_set_prices(tenant_alpha):
    with pytest.raises(NotAnAgency):
        reseller_prices_set(agency=tenant_alpha, entries=[price()], now=timezone.now())


def test_setting_a_price_again_changes_it_and_withdrawing_it_deactivates_it():
    agency = reseller_make()
    reseller_prices_set(agency=agency, entries=[price(amount="25.00")], now=timezone.now())
    reseller_prices_set(agency=agency, entries=[price(amount="27.00")], now=timezone.now())
    assert [row.amount for row in reseller_prices_active(agency)] == [Decimal("27.00")]
    reseller_prices_set(agency=agency, entries=[price(amount=None)], now=timezone.now())
    assert not reseller_prices_active(agency).exists()
    assert ResellerPrice.objects.filter(agency=agency).count() == 1


def test_the_price_list_shows_list_wholesale_own_price_and_margin():
    agency = reseller_make(discount="25")
    reseller_prices_set(agency=agency, entries=[price(plan="pro", amount="120.00")], now=timezone.now())
    rows = {row.key: row for row in reseller_price_list(agency=agency)}
    pro = rows["pro:month:USD"]
    assert (pro.list_price.amount, pro.wholesale.amount) == (Decimal("99.00"), Decimal("74.25"))
    assert (pro.your_price.amount, pro.margin.amount) == (Decimal("120.00"), Decimal("45.75"))
    assert rows["starter:month:EUR"].your_price is None and rows["starter:month:EUR"].margin is None
