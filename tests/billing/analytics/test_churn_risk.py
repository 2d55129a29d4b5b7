"""The churn-risk score: the product's weights with support load (not measurable yet) shared out in proportion,
each factor's signal, the levels and their boundaries."""

from decimal import Decimal

import pytest

from billing.analytics.churn_risk import (
    ChurnFacts,
    churn_risk_level,
    churn_risk_score,
    effective_weights,
)

D = Decimal
HEALTHY = ChurnFacts(active_days=25, meters_used=frozenset({"api_calls", "ai_output_tokens"}), failed_payments=0,
                     past_due=False, members=4)


def facts(**changes) -> ChurnFacts:
    return ChurnFacts(**{**HEALTHY.__dict__, **changes})


def test_support_load_weight_is_shared_among_the_other_factors_in_proportion():
    # 30, 30, 10 and 10 out of the 80 that can be measured: each ÷ 0.8.
    assert effective_weights() == {"low_usage": D("37.5"), "failed_payments": D("37.5"), "no_team": D("12.5"),
                                   "oldest_features_only": D("12.5")}


def test_a_busy_paying_team_using_new_features_scores_zero():
    score = churn_risk_score(HEALTHY)
    assert (score.score, score.level, score.actions) == (D(0), "low", [])


def test_low_usage_grows_as_active_days_fall_below_ten():
    # 4 active days: 1 - 4/10 = 0.6 of 37.5 = 22.5.
    assert churn_risk_score(facts(active_days=4)).score == D("22.5")
    assert churn_risk_score(facts(active_days=0)).score == D("37.5")
    assert churn_risk_score(facts(active_days=10)).score == D(0)


def test_one_failed_payment_counts_half_two_or_past_due_in_full():
    assert churn_risk_score(facts(failed_payments=1)).score == D("18.8")  # 18.75, rounded half up to 0.1
    assert churn_risk_score(facts(failed_payments=2)).score == D("37.5")
    assert churn_risk_score(facts(past_due=True)).score == D("37.5")


def test_a_solo_account_and_one_using_only_the_api_add_their_weight():
    assert churn_risk_score(facts(members=1)).score == D("12.5")
    assert churn_risk_score(facts(members=None)).score == D("12.5")
    assert churn_risk_score(facts(meters_used=frozenset({"api_calls"}))).score == D("12.5")


def test_everything_wrong_is_critical_with_every_action_largest_first_ties_in_the_products_order():
    score = churn_risk_score(ChurnFacts(active_days=0, meters_used=frozenset(), failed_payments=3, past_due=True,
                                        members=1))
    assert (score.score, score.level) == (D(100), "critical")
    assert [action.split(":")[0] for action in score.actions] == [
        "Onboarding", "A payment-method reminder with the link to update the card.", "A team offer",
        "A tour of the newer features"]


@pytest.mark.parametrize(("score", "level"), [
    ("0", "low"), ("29.9", "low"), ("30", "medium"), ("49.9", "medium"), ("50", "high"), ("70", "high"),
    ("70.1", "critical"), ("100", "critical"),
])
def test_levels_low_below_30_medium_to_50_high_to_70_critical_above(score, level):
    assert churn_risk_level(D(score)) == level
