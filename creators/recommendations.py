"""The pricing recommendation a playbook's `community_pricing` decision shows, computed from the creator's profile.

    engaged  = followers x engagement rate / 100
    members  = floor(engaged x conversion_rate)                 (2% in the premium community playbook)
    needed   = goal / (members x ((1 - premium_share) + premium_share x premium_multiplier))
    core     = the first price point >= needed (the top point when none is), premium = core x premium_multiplier
    revenue  = members x ((1 - premium_share) x core + premium_share x premium)

With 10% of members on a premium tier at 3x, the average member pays 1.2 x the core price. The parameters live in
the playbook file, so ops can change the assumption with a new playbook version; amounts are Decimal in the
profile's currency, rounded to the currency's minor units only when shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from config.money import Money, money_round


@dataclass(frozen=True)
class PricingRecommendation:
    engaged_followers: int
    members: int
    core_price: Money
    premium_price: Money
    projected_revenue: Money
    goal: Money
    reaches_goal: bool
    # Paying members needed at the recommended prices to reach the goal (None without a goal or a price).
    members_needed: int | None
    assumption: str

    def as_data(self) -> dict[str, Any]:
        """The JSON form kept in a project's plan and sent by the API (amounts as strings)."""
        return {
            "engaged_followers": self.engaged_followers, "members": self.members,
            "core_price": _money_data(self.core_price), "premium_price": _money_data(self.premium_price),
            "projected_revenue": _money_data(self.projected_revenue), "goal": _money_data(self.goal),
            "reaches_goal": self.reaches_goal, "members_needed": self.members_needed,
            "assumption": self.assumption,
        }


def community_pricing(*, followers: int, engagement_rate: Decimal, goal: Money,
                      params: dict[str, Any]) -> PricingRecommendation:
    """Tiers and monthly prices toward `goal` from the audience (the formula in this module's docstring)."""
    conversion = Decimal(params["conversion_rate"])
    premium_share = Decimal(params["premium_share"])
    multiplier = Decimal(params["premium_multiplier"])
    points = [Decimal(point) for point in params["price_points"]]
    engaged = int((Decimal(followers) * engagement_rate / 100).to_integral_value(ROUND_FLOOR))
    members = int((Decimal(engaged) * conversion).to_integral_value(ROUND_FLOOR))
    revenue_per_core_unit = (1 - premium_share) + premium_share * multiplier
    if members == 0:
        core = points[0]
    else:
        needed = goal.amount / (members * revenue_per_core_unit)
        core = next((point for point in points if point >= needed), points[-1])
    premium = core * multiplier
    revenue = Decimal(members) * core * revenue_per_core_unit
    members_needed = math.ceil(goal.amount / (core * revenue_per_core_unit)) if goal.amount > 0 else None
    currency = goal.currency
    return PricingRecommendation(
        engaged_followers=engaged, members=members,
        core_price=money_round(Money(core, currency)), premium_price=money_round(Money(premium, currency)),
        projected_revenue=money_round(Money(revenue, currency)), goal=goal, reaches_goal=revenue >= goal.amount,
        members_needed=members_needed,
        assumption=(f"{_percent(conversion)} of engaged followers become paying members; "
                    f"{_percent(premium_share)} of them choose the premium tier at {_plain(multiplier)}x the core "
                    "price."),
    )


def _money_data(money: Money) -> dict[str, str]:
    return {"amount": format(money_round(money).amount, "f"), "currency": money.currency}


def _percent(share: Decimal) -> str:
    return f"{_plain(share * 100)}%"


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")
