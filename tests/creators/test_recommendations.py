"""The pricing recommendation: followers x engagement x the playbook's conversion assumption -> members -> the
first price point that reaches the monthly goal (with 10% on a premium tier at 3x), in Decimal money."""

from decimal import Decimal

from config.money import Money
from creators.playbooks import playbook_get
from creators.recommendations import community_pricing

PARAMS = playbook_get("premium-community").decision("pricing").recommendation


def recommend(followers: int, engagement: str, goal: str):
    return community_pricing(followers=followers, engagement_rate=Decimal(engagement),
                             goal=Money(Decimal(goal), "USD"), params=PARAMS)


def test_the_price_is_the_first_point_that_reaches_the_goal():
    # 50,000 x 4% = 2,000 engaged; 2% of them = 40 members; 3,000 / (40 x 1.2) = 62.50 -> 79.
    result = recommend(50_000, "4", "3000")

    assert (result.engaged_followers, result.members) == (2_000, 40)
    assert result.core_price == Money(Decimal("79.00"), "USD")
    assert result.premium_price == Money(Decimal("237.00"), "USD")
    assert result.projected_revenue == Money(Decimal("3792.00"), "USD")
    assert result.reaches_goal is True
    assert result.members_needed == 32


def test_a_price_exactly_on_a_point_is_kept():
    # 100,000 x 5% = 5,000; 100 members; 100 x 1.2 x 25 = 3,000 exactly.
    result = recommend(100_000, "5", "3000")

    assert result.core_price.amount == Decimal("25.00")
    assert result.projected_revenue.amount == Decimal("3000.00")
    assert result.reaches_goal is True


def test_a_goal_the_audience_cannot_reach_is_capped_at_the_top_price_and_says_so():
    result = recommend(5_000, "2", "3000")  # 100 engaged, 2 members

    assert result.core_price.amount == Decimal("99.00")
    assert result.reaches_goal is False
    assert result.members_needed == 26  # 3,000 / (99 x 1.2) = 25.3


def test_no_engaged_audience_recommends_the_lowest_price_and_no_revenue():
    result = recommend(0, "4", "3000")

    assert result.members == 0
    assert result.core_price.amount == Decimal("5.00")
    assert result.projected_revenue.amount == Decimal("0.00")
    assert result.reaches_goal is False


def test_fractional_members_round_down():
    result = recommend(12_345, "3.33", "1000")  # 411.09 engaged -> 411; 8.22 members -> 8

    assert (result.engaged_followers, result.members) == (411, 8)


def test_a_zero_goal_needs_nobody_and_starts_at_the_lowest_price():
    result = recommend(50_000, "4", "0")

    assert result.core_price.amount == Decimal("5.00")
    assert result.members_needed is None
    assert result.reaches_goal is True


def test_the_assumption_is_stated_in_words():
    assert recommend(50_000, "4", "3000").assumption.startswith("2% of engaged followers become paying members")


def test_the_data_form_carries_amounts_as_strings():
    data = recommend(50_000, "4", "3000").as_data()

    assert data["core_price"] == {"amount": "79.00", "currency": "USD"}
    assert data["goal"] == {"amount": "3000.00", "currency": "USD"}
