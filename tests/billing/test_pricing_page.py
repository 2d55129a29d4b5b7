"""The public pricing page, priced from the billing catalogue: plans with monthly and annual prices, "contact
sales" for plans sold through sales, the usage prices in words, the AI-token price and the FAQ."""

from decimal import Decimal

import pytest
from django.test import override_settings

from billing.models import Plan, Price, UsageCharge
from billing.selectors import public_price_list, usage_charge_words
from tests.support.factories import PlanFactory

pytestmark = pytest.mark.django_db


def plan_card(response, plan_code: str) -> str:
    html = response.content.decode()
    start = html.index(f'data-plan="{plan_code}"')
    return html[start:html.index("</article>", start)]


def test_each_plan_shows_its_monthly_and_annual_price_from_the_catalogue(public_client):
    card = plan_card(public_client.get("/pricing/"), "pro")

    assert "99.00 USD" in card and "999.00 USD" in card


def test_a_new_price_replaces_the_old_one_on_the_page(public_client):
    pro = Plan.objects.get(code="pro")
    Price.objects.create(plan=pro, code="pro-month-usd-2027", currency="USD", interval="month",
                         fixed_amount=Decimal("109.00"))

    card = plan_card(public_client.get("/pricing/"), "pro")

    assert ">109.00 USD<" in card and ">99.00 USD<" not in card


def test_the_annual_price_says_what_it_saves_against_twelve_months(public_client):
    card = plan_card(public_client.get("/pricing/"), "pro")

    assert "Save 15% against monthly" in card  # 999 against 12 × 99 = 1,188


def test_a_private_contact_sales_plan_has_no_price_but_a_mail_to_sales(public_client):
    card = plan_card(public_client.get("/pricing/"), "enterprise")

    assert "Contact sales" in card
    assert 'href="mailto:billing@tollgate.example' in card
    assert " USD" not in card.split("plan-features")[0]


def test_usage_prices_are_in_words(public_client):
    card = plan_card(public_client.get("/pricing/"), "pro")

    assert "API calls: 0.05 USD per 1,000 calls beyond 100,000 a month" in card
    assert "Compute: 0.12 USD per hour" in card


def test_the_annual_usage_allowance_is_a_years_worth(public_client):
    response = public_client.get("/pricing/")

    assert "API calls: 0.05 USD per 1,000 calls beyond 1,200,000 a year" in plan_card(response, "pro")


@override_settings(BILLING_TOKEN_PRICE_PER_1000={"USD": "0.10"})
def test_the_ai_token_price_is_shown(public_client):
    response = public_client.get("/pricing/")

    assert b"0.10 USD per 1,000 tokens" in response.content


def test_private_self_serve_and_inactive_plans_are_not_listed(public_client):
    PlanFactory(code="secret-deal", name="Secret Deal", is_public=False)
    PlanFactory(code="retired", name="Retired Plan", is_active=False)

    response = public_client.get("/pricing/")

    assert b"Secret Deal" not in response.content and b"Retired Plan" not in response.content


def test_the_faq_answers_trials_proration_cancel_taxes_and_invoices(public_client):
    response = public_client.get("/pricing/")

    for question in [b"trials", b"change plans mid-period", b"cancel", b"taxes", b"invoices work"]:
        assert question in response.content, question


def test_the_interval_toggle_works_without_script(public_client):
    response = public_client.get("/pricing/")

    assert b'id="pricing-interval-month" class="pricing-interval-input" checked' in response.content
    assert b'class="price-year"' in response.content


def test_a_plan_without_a_price_in_the_currency_is_listed_without_one(db):
    PlanFactory(code="eur-only", name="EUR only")

    entry = next(entry for entry in public_price_list(currency="USD").plans if entry.plan.code == "eur-only")

    assert (entry.monthly, entry.annual) == (None, None)


# --- Usage charges in words -------------------------------------------------------------------------------

def charge(model: str, properties: dict, **fields) -> UsageCharge:
    price = Price.objects.create(plan=PlanFactory(), code=f"words-{model}", currency="USD", interval="month")
    return UsageCharge.objects.create(price=price, meter_code="api_calls", name="Calls", unit_name="calls",
                                      charge_model=model, properties=properties, **fields)


def test_a_graduated_charge_lists_its_tiers():
    tiers = {"tiers": [{"up_to": "1000", "unit_amount": "0.002"}, {"up_to": None, "unit_amount": "0.001"}]}

    assert usage_charge_words(charge("graduated", tiers)) == (
        "Calls: 0.002 USD per call up to 1,000, then 0.001 USD per call beyond 1,000")


def test_a_percentage_charge_says_its_rate_and_fee():
    words = usage_charge_words(charge("percentage", {"rate": "2.5", "fixed_amount": "0.30"}))

    assert words == "Calls: 2.5 % of each transaction + 0.30 USD"


def test_a_minimum_is_mentioned():
    words = usage_charge_words(charge("standard", {"unit_amount": "0.00005"}, minimum_amount=Decimal("5")))

    assert words == "Calls: 0.00005 USD per call (at least 5.00 USD a month)"
