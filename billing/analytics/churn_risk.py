"""The churn-risk score of a customer: pure functions of the facts the daily snapshot gathers (no database).

The product's weights are low usage 30 %, failed payments 30 %, support load 20 %, no team members 10 %, only
the oldest features used 10 %. Tollgate has no support system yet, so support load cannot be measured: its 20 %
is shared among the other four in proportion to their weights (each divided by 0.8: 37.5, 37.5, 12.5 and 12.5).
Each factor is a signal from 0 (no risk) to 1 (full risk); the score is the weighted sum, 0 to 100:

- low usage: 1 - active days / 10 (floored at 0), counting the days with any metered usage in the last 30;
- failed payments: 1 when the subscription is past due or 2+ payments failed in the last 90 days, 0.5 for one;
- no team members: 1 when the tenant has at most one active member (only the owner) or the count is unknown;
- only the oldest features used: 1 when nothing beyond the oldest feature, the API (`api_calls`), was used in
  the last 30 days (no AI tokens, coach, compute or storage).

Levels: low below 30, medium from 30 to below 50, high from 50 to 70, critical above 70."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

WEIGHTS = {"low_usage": Decimal(30), "failed_payments": Decimal(30), "support_load": Decimal(20),
           "no_team": Decimal(10), "oldest_features_only": Decimal(10)}
# Factors that cannot be measured yet, and why: their weight goes to the others in proportion.
UNMEASURED = {"support_load": "Tollgate has no support system yet, so support load is not measured."}
HEALTHY_ACTIVE_DAYS = 10
OLDEST_FEATURES = frozenset({"api_calls"})
ONE = Decimal(1)
HALF = Decimal("0.5")
ZERO = Decimal(0)

LEVEL_ACTIONS = {
    "low": "No action: the regular newsletter and product updates.",
    "medium": "An automated nudge for the highest factor (see its action).",
    "high": "Personal outreach from customer success this week.",
    "critical": "Call the owner now and consider a retention offer.",
}
FACTOR_ACTIONS = {
    "low_usage": "Onboarding: a guided setup call and the getting-started emails.",
    "failed_payments": "A payment-method reminder with the link to update the card.",
    "no_team": "A team offer: invite teammates (extra seats free for a month).",
    "oldest_features_only": "A tour of the newer features: the AI gateway, the coach, compute.",
}


@cache
def effective_weights() -> dict[str, Decimal]:
    """The weights of the measured factors, scaled so that they add up to 100."""
    measured = {name: weight for name, weight in WEIGHTS.items() if name not in UNMEASURED}
    total = sum(measured.values())
    return {name: weight * 100 / total for name, weight in measured.items()}


@dataclass(frozen=True)
class ChurnFacts:
    active_days: int
    meters_used: frozenset[str]
    failed_payments: int
    past_due: bool
    members: int | None


@dataclass(frozen=True)
class ChurnScore:
    score: Decimal
    level: str
    low_usage: Decimal
    failed_payments: Decimal
    no_team: Decimal
    oldest_features_only: Decimal

    @property
    def actions(self) -> list[str]:
        """The suggested action of each factor that adds to the score, the largest first (ties in the product's
        order of the factors)."""
        weights = effective_weights()
        contributions = [(weights[name] * getattr(self, name), name) for name in FACTOR_ACTIONS]
        ranked = sorted(contributions, key=lambda item: -item[0])
        return [FACTOR_ACTIONS[name] for contribution, name in ranked if contribution]


def churn_risk_score(facts: ChurnFacts) -> ChurnScore:
    signals = {
        "low_usage": max(ZERO, ONE - Decimal(facts.active_days) / HEALTHY_ACTIVE_DAYS),
        "failed_payments": ONE if facts.past_due or facts.failed_payments >= 2 else HALF if facts.failed_payments
        else ZERO,
        "no_team": ONE if facts.members is None or facts.members <= 1 else ZERO,
        "oldest_features_only": ZERO if facts.meters_used - OLDEST_FEATURES else ONE,
    }
    weights = effective_weights()
    score = sum((weights[name] * signal for name, signal in signals.items()), ZERO)
    score = score.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return ChurnScore(score=score, level=churn_risk_level(score), **signals)


def churn_risk_level(score: Decimal) -> str:
    if score < 30:
        return "low"
    if score < 50:
        return "medium"
    if score <= 70:
        return "high"
    return "critical"
