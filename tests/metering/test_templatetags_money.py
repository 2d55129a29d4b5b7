from decimal import Decimal

from django.template import Context, Template

from config.money import Money
from metering.models import TokenPack, TokenPurchase


def render(value) -> str:
    return Template("{% load money %}{{ value|money }}").render(Context({"value": value}))


def test_the_money_filter_shows_minor_units_and_the_iso_code():
    assert render(Money(Decimal("1234.5"), "JPY")) == "1235 JPY"


def test_a_pending_purchase_shows_its_copied_price_in_its_currency():
    purchase = TokenPurchase(tokens=1_000_000, price=Decimal("100.00"), currency="KWD")

    assert render(purchase.price_money) == "100.000 KWD"


def test_a_pack_price_is_money_in_the_packs_currency():
    pack = TokenPack(code="tokens-1m", name="1M", tokens=1_000_000, price=Decimal("100.00"), currency="EUR")

    assert pack.price_money == Money(Decimal("100.00"), "EUR")
