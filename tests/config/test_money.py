from decimal import Decimal

import pytest

from config.money import (
    CurrencyMismatch,
    Money,
    currency_minor_units,
    money_format,
    money_from_api,
    money_from_minor_units,
    money_rate_round,
    money_round,
    money_to_api,
    money_to_minor_units,
)


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def test_amounts_in_one_currency_add_and_subtract_exactly():
    assert usd("0.10") + usd("0.20") - usd("0.05") == usd("0.25")


@pytest.mark.parametrize("combine", [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a < b, lambda a, b: a >= b,
])
def test_mixed_currencies_are_refused(combine):
    with pytest.raises(CurrencyMismatch):
        combine(usd("1.00"), Money(Decimal("1.00"), "EUR"))


def test_a_float_amount_is_refused():
    with pytest.raises(TypeError):
        Money(0.1, "USD")


def test_a_float_factor_is_refused():
    with pytest.raises(TypeError):
        usd("1.00") * 0.1


def test_a_plain_number_is_not_added_to_money():
    with pytest.raises(TypeError):
        usd("1.00") + Decimal("1")


@pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("Infinity")])
def test_a_non_finite_amount_is_refused(amount):
    with pytest.raises(ValueError):
        Money(amount, "USD")


@pytest.mark.parametrize("currency", ["usd", "US", "", None])
def test_a_currency_that_is_not_an_iso_code_is_refused(currency):
    with pytest.raises(ValueError):
        Money(Decimal("1"), currency)


@pytest.mark.parametrize(("currency", "places"), [("USD", 2), ("EUR", 2), ("JPY", 0), ("BHD", 3), ("KWD", 3)])
def test_minor_units_come_from_the_currency(currency, places):
    assert currency_minor_units(currency) == places


@pytest.mark.parametrize(("amount", "currency", "rounded"), [
    ("12.345", "USD", "12.35"),  # half up, not to even
    ("12.344", "USD", "12.34"),
    ("-12.345", "USD", "-12.35"),  # half away from zero
    ("1234.5", "JPY", "1235"),
    ("1.2345", "BHD", "1.235"),
    ("1.2344", "KWD", "1.234"),
])
def test_invoice_rounding_is_half_up_to_the_currencys_minor_units(amount, currency, rounded):
    assert money_round(Money(Decimal(amount), currency)) == Money(Decimal(rounded), currency)
    assert str(money_round(Money(Decimal(amount), currency)).amount) == rounded


def test_rating_precision_keeps_micro_units_whatever_the_currency():
    assert str(money_rate_round(Money(Decimal("0.0000125"), "JPY")).amount) == "0.000013"


@pytest.mark.parametrize(("money", "text"), [
    (usd("100"), "100.00 USD"),
    (usd("1000.5"), "1000.50 USD"),
    (usd("0.005"), "0.01 USD"),  # rounded half up, as invoices are
    (Money(Decimal("1234.5"), "JPY"), "1235 JPY"),
    (Money(Decimal("1.5"), "KWD"), "1.500 KWD"),
])
def test_pages_show_the_amount_to_minor_units_and_the_iso_code(money, text):
    assert money_format(money) == text


def test_the_locale_decides_the_decimal_separator():
    assert money_format(usd("100"), locale="de_DE") == "100,00 USD"


def test_a_unit_price_can_be_shown_finer_than_minor_units():
    assert money_format(usd("0.1"), places=4) == "0.1000 USD"


def test_the_api_form_is_an_exact_decimal_string():
    assert money_to_api(Money(Decimal("0.000047"), "USD")) == {"amount": "0.000047", "currency": "USD"}


def test_the_api_form_never_uses_exponent_notation():
    assert money_to_api(Money(Decimal("1E+2"), "USD"))["amount"] == "100"


@pytest.mark.parametrize("money", [usd("12.34"), Money(Decimal("0.000001"), "USD"), Money(Decimal("5"), "JPY")])
def test_the_api_form_round_trips(money):
    back = money_from_api(money_to_api(money))

    assert back == money and str(back.amount) == str(money.amount)


def test_an_api_amount_given_as_a_json_number_is_refused():
    with pytest.raises(TypeError):
        money_from_api({"amount": 12.34, "currency": "USD"})


def test_an_api_amount_that_is_not_a_decimal_is_refused():
    with pytest.raises(ValueError):
        money_from_api({"amount": "twelve", "currency": "USD"})


@pytest.mark.parametrize(("amount", "currency", "minor"), [("12.34", "USD", 1234), ("12.3400", "USD", 1234),
                                                            ("1500", "JPY", 1500), ("1.234", "KWD", 1234)])
def test_an_amount_in_minor_units_is_an_exact_integer_of_the_currencys_minor_unit(amount, currency, minor):
    assert money_to_minor_units(Money(Decimal(amount), currency)) == minor
    assert money_from_minor_units(minor, currency) == Money(Decimal(amount), currency)


def test_an_amount_finer_than_the_minor_unit_is_not_silently_rounded_into_minor_units():
    with pytest.raises(ValueError):
        money_to_minor_units(Money(Decimal("12.345"), "USD"))


def test_minor_units_are_an_int_never_a_float():
    with pytest.raises(TypeError):
        money_from_minor_units(12.0, "USD")
