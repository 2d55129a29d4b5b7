"""Money: an exact amount in one currency, and the one place that rounds, formats and (de)serialises it.

`Money(amount, currency)` holds a Decimal and an ISO 4217 code. Arithmetic between two amounts refuses mixed
currencies (`CurrencyMismatch`) and every constructor refuses floats (`TypeError`): a float cannot hold 0.10
exactly, and a sum of USD and EUR has no meaning. Amounts are never rounded behind the caller's back:

- rating precision (`money_rate_round`, RATING_PLACES decimals): what metered usage costs, e.g. an AI request at
  per-million-token prices. It is finer than any currency's minor unit, so that many small charges add up to
  what the usage is worth rather than to a sum of rounded pennies;
- invoice rounding (`money_round`): to the currency's minor units (USD 2, JPY 0, BHD and KWD 3, from Babel's
  copy of the CLDR currency data), for amounts a customer pays.

Both round half up. Formatting for pages (`money_format`) shows the amount and the ISO code ("100.00 USD") in
the reader's locale's digits and separators; the API form is `{"amount": "12.34", "currency": "USD"}`, the
amount a string so that no JSON parser turns it into a float.

Babel supplies the currency data and the locale formatting; the value type is ours, a frozen dataclass, because
py-moneyed's Money accepts floats and would need Babel all the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency, get_currency_precision

# Usage is rated to the micro-unit (0.000001): finer than any currency's minor unit.
RATING_PLACES = 6
CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
# The amount without grouping, then the ISO code; Babel replaces the two decimals with the currency's own
# number of minor units, and the locale decides the decimal separator.
DISPLAY_PATTERN = "0.00 ¤¤"


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined or compared."""


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money needs a Decimal amount, not {type(self.amount).__name__}.")
        if not self.amount.is_finite():
            raise ValueError(f"Money needs a finite amount, not {self.amount}.")
        if not isinstance(self.currency, str) or not CURRENCY_CODE.match(self.currency):
            raise ValueError(f"Money needs an ISO 4217 currency code, not {self.currency!r}.")

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same_currency(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same_currency(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        return Money(self.amount * _exact(factor), self.currency)

    __rmul__ = __mul__

    def __truediv__(self, divisor: Decimal | int) -> Money:
        return Money(self.amount / _exact(divisor), self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same_currency(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same_currency(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same_currency(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same_currency(other).amount

    def _same_currency(self, other: Money) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"Money combines only with Money, not {type(other).__name__}.")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"Cannot combine {self.currency} with {other.currency}.")
        return other


def _exact(number: Decimal | int) -> Decimal:
    # bool is an int, and True * 10 USD is a bug rather than an amount.
    if isinstance(number, bool) or not isinstance(number, (Decimal, int)):
        raise TypeError(f"Money is multiplied or divided only by a Decimal or an int, not {type(number).__name__}.")
    return Decimal(number)


def currency_minor_units(currency: str) -> int:
    """Decimals of the currency's minor unit (USD 2, JPY 0, KWD 3); 2 for a code CLDR does not know."""
    return get_currency_precision(currency)


def _round(money: Money, places: int) -> Money:
    return Money(money.amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), money.currency)


def money_round(money: Money) -> Money:
    """Invoice rounding: half up to the currency's minor units."""
    return _round(money, currency_minor_units(money.currency))


def money_rate_round(money: Money) -> Money:
    """Rating precision: half up to RATING_PLACES decimals, whatever the currency."""
    return _round(money, RATING_PLACES)


def money_to_minor_units(money: Money) -> int:
    """The amount as an integer of the currency's minor units (12.34 USD -> 1234, 500 JPY -> 500), as payment
    APIs take it. Refused (ValueError) for an amount finer than the minor unit: round it first (money_round)."""
    minor = money.amount.scaleb(currency_minor_units(money.currency))
    if minor != minor.to_integral_value():
        raise ValueError(f"{money.amount} {money.currency} is finer than the currency's minor unit.")
    return int(minor)


def money_from_minor_units(minor: int, currency: str) -> Money:
    """The Money that an integer of minor units stands for (1234 USD cents -> 12.34 USD)."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise TypeError(f"Minor units are an int, not {type(minor).__name__}.")
    return Money(Decimal(minor).scaleb(-currency_minor_units(currency)), currency)


def money_format(money: Money, *, locale: str = "en_US", places: int | None = None) -> str:
    """The amount and ISO code for a page, e.g. "100.00 USD", rounded half up to the currency's minor units or
    to `places` decimals (a unit price may need more than the currency has)."""
    if places is None:
        return format_currency(money_round(money).amount, money.currency, format=DISPLAY_PATTERN, locale=locale)
    pattern = DISPLAY_PATTERN.replace("0.00", "0." + "0" * places if places else "0")
    return format_currency(_round(money, places).amount, money.currency, format=pattern, locale=locale,
                           currency_digits=False)


def money_to_api(money: Money) -> dict[str, str]:
    """The API form: the amount as a plain decimal string (never exponent notation), unrounded."""
    return {"amount": format(money.amount, "f"), "currency": money.currency}


def money_from_api(data: dict) -> Money:
    """The Money an API form stands for. The amount must be a string: a JSON number arrives as a float."""
    amount = data.get("amount")
    if not isinstance(amount, str):
        raise TypeError(f"The amount must be a decimal string, not {type(amount).__name__}.")
    try:
        value = Decimal(amount)
    except ArithmeticError as error:
        raise ValueError(f"The amount {amount!r} is not a decimal.") from error
    return Money(value, data.get("currency"))
