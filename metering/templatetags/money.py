"""`{{ value|money }}`: a Money on a page, formatted by config.money (the one place that rounds and formats)."""

from django import template

from config.money import Money, money_format

register = template.Library()


@register.filter(name="money")
def money_filter(value: Money) -> str:
    return money_format(value)
