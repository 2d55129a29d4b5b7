"""The pattern detector on a table of creator messages, pinned exactly: what it finds (kind, decision category or
task, value, data) and with which confidence, and the messages that must find nothing (questions, hypotheticals,
negations, plans, numbers that are not prices, dates that are not launches)."""

from datetime import date
from decimal import Decimal

import pytest

from creators.chat.actions import ActionKind, ActionSource, ActionStatus
from creators.chat.detector import ProjectState, actions_detect
from creators.playbooks import playbook_get

TODAY = date(2026, 11, 20)
STATE = ProjectState(today=TODAY)
USD_29 = {"amount": "29.00", "currency": "USD", "interval": "month"}


def found(text: str, playbook_key: str = "premium-community", state: ProjectState | None = STATE) -> list[tuple]:
    return [(action.kind, action.category or action.task_id, action.value, action.data, action.confidence)
            for action in actions_detect(text=text, playbook=playbook_get(playbook_key), project_state=state)]


def decision(category: str, value: str, data: dict, confidence: str) -> tuple:
    return (ActionKind.DECISION, category, value, data, Decimal(confidence))


def task(task_id: str, confidence: str) -> tuple:
    return (ActionKind.TASK, task_id, "", {}, Decimal(confidence))


@pytest.mark.parametrize(("text", "expected"), [
    ("I'll charge $29/month.", [decision("pricing", "29.00 USD a month", USD_29, "0.9")]),
    ("29 dollars a month", [decision("pricing", "29.00 USD a month", USD_29, "0.7")]),
    ("€15 per month", [decision("pricing", "15.00 EUR a month",
                                {"amount": "15.00", "currency": "EUR", "interval": "month"}, "0.7")]),
    ("I'm charging 29/mo", [decision("pricing", "29.00 USD a month", USD_29, "0.8")]),
    ("$290 a year", [decision("pricing", "290.00 USD a year",
                              {"amount": "290.00", "currency": "USD", "interval": "year"}, "0.7")]),
    ("Price: $1,299.50 a year", [decision("pricing", "1299.50 USD a year",
                                          {"amount": "1299.50", "currency": "USD", "interval": "year"}, "0.7")]),
    ("My price is 12 euros.", [decision("pricing", "12.00 EUR a month",
                                        {"amount": "12.00", "currency": "EUR", "interval": "month"}, "0.8")]),
    ("Maybe around $19 a month.", [decision("pricing", "19.00 USD a month",
                                            {"amount": "19.00", "currency": "USD", "interval": "month"}, "0.5")]),
])
def test_a_stated_price_is_a_pricing_decision(text, expected):
    assert found(text) == expected


def test_two_monthly_prices_are_a_core_and_a_premium_tier():
    assert found("I'll charge $29 a month for core and $99 a month for premium.") == [
        decision("pricing", "29.00 USD a month (premium 99.00 USD)", {**USD_29, "premium_amount": "99.00"}, "0.9")]


def test_a_monthly_and_a_yearly_price_are_an_annual_option():
    assert found("I'll charge $29/month or $290 a year.") == [
        decision("pricing", "29.00 USD a month or 290.00 USD a year", {**USD_29, "annual_amount": "290.00"}, "0.9")]


@pytest.mark.parametrize(("text", "expected"), [
    ("We decided to go with Circle.", [decision("platform", "Circle", {"option": "circle"}, "0.9")]),
    ("Discord, not Circle.", [decision("platform", "Discord", {"option": "discord"}, "0.7")]),
    ("I think Discord is best.", [decision("platform", "Discord", {"option": "discord"}, "0.5")]),
    ("I'm going with Patreon.", [decision("platform", "Patreon", {"option": "other"}, "0.9")]),
    ("I'll set up Discord tomorrow.", [decision("platform", "Discord", {"option": "discord"}, "0.9")]),
])
def test_a_named_platform_is_a_platform_decision(text, expected):
    assert found(text) == expected


def test_two_platforms_in_one_message_are_both_put_to_the_creator():
    assert found("I am thinking about Skool or Circle.") == [
        decision("platform", "Circle", {"option": "circle"}, "0.5"),
        decision("platform", "Skool", {"option": "skool"}, "0.5")]


@pytest.mark.parametrize(("text", "expected"), [
    ("I'm launching on March 15.", [decision("timeline", "Launch on March 15, 2027", {"launch_date": "2027-03-15"},
                                             "0.8")]),
    ("Launch date: 2027-03-15.", [decision("timeline", "Launch on March 15, 2027", {"launch_date": "2027-03-15"},
                                           "0.7")]),
    ("I'll launch in 6 weeks.", [decision("timeline", "Launch on January 1, 2027", {"launch_date": "2027-01-01"},
                                          "0.8")]),
    ("We open the doors on 3 February 2027.", [decision("timeline", "Launch on February 3, 2027",
                                                        {"launch_date": "2027-02-03"}, "0.9")]),
])
def test_a_launch_date_is_a_timeline_decision(text, expected):
    assert found(text) == expected


def test_without_today_only_a_full_date_is_a_timeline_decision():
    assert found("I'm launching on March 15. I'll launch in 6 weeks.", state=None) == []
    assert found("Launch on 2027-03-15!", state=None) == [
        decision("timeline", "Launch on March 15, 2027", {"launch_date": "2027-03-15"}, "0.7")]


@pytest.mark.parametrize(("text", "expected"), [
    ("I'll do two posts a week.", [decision("content", "2 posts a week",
                                            {"count": 2, "format": "post", "per": "week"}, "0.9")]),
    ("A live session every week.", [decision("content", "1 live session a week",
                                             {"count": 1, "format": "live session", "per": "week"}, "0.7")]),
    ("I'm going with daily prompts.", [decision("content", "1 prompt a day",
                                                {"count": 1, "format": "prompt", "per": "day"}, "0.9")]),
])
def test_a_cadence_is_a_content_decision(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("I created the sales page.", [task("create-sales-page", "0.9")]),
    ("Done with the survey.", [task("audience-survey", "0.8")]),
    ("I've set up payments with Stripe.", [task("set-up-payments", "0.9")]),
    ("The waitlist is live!", [task("announce-waitlist", "0.8")]),
    ("I wrote the onboarding.", [task("write-onboarding", "0.9")]),
    ("I recruited 12 founding members.", [task("recruit-founding-members", "0.9")]),
    ("I've written the launch email sequence.", [task("prepare-email-sequence", "0.9")]),
    ("I think I finished the content calendar.", [task("plan-content-calendar", "0.5")]),
])
def test_a_stated_completion_is_the_task_it_names(text, expected):
    assert found(text) == expected


def test_setting_up_a_platform_completes_the_space_and_decides_the_platform():
    assert found("I've set up Discord.") == [decision("platform", "Discord", {"option": "discord"}, "0.9"),
                                             task("create-space", "0.9")]


@pytest.mark.parametrize("text", [
    "Should I charge $29?",
    "If I charge $29 a month, will people pay?",
    "What if I use Discord",
    "Can I launch on March 15?",
    "What would two posts a week look like?",
    "I haven't set up Discord",
    "I haven't set up Discord yet.",
    "Not Circle.",
    "I won't use Circle.",
    "No Discord for me.",
    "Instead of Circle I want something else.",
    "I didn't create the sales page.",
    "I'm almost done with the sales page.",
    "I still need to set up payments.",
    "I spent $29 on a mic.",
    "I post 3 a month.",
    "I have 3 kids and 50000 followers.",
    "My birthday is March 15.",
    "",
])
def test_questions_hypotheticals_negations_and_unrelated_numbers_find_nothing(text):
    assert found(text) == []


def test_a_kit_without_the_decision_finds_only_its_own_tasks():
    assert found("I'm going with Discord and I'll charge $29/month. I've published the landing page.",
                 playbook_key="startup-kit") == [task("landing-page", "0.9")]


def test_each_action_says_where_it_came_from_and_why():
    action = actions_detect(text="Hello coach!\nSo: I'll charge $29/month. Thanks",
                            playbook=playbook_get("premium-community"), project_state=STATE)[0]

    assert (action.source, action.status, action.evidence) == (ActionSource.PATTERN, ActionStatus.DETECTED,
                                                               "So: I'll charge $29/month.")
    assert action.as_dict()["confidence"] == "0.9"


def test_a_long_message_finds_each_action_once():
    text = ("I'll charge $29/month. " * 40 + "We decided to go with Circle. " * 20)[:2048]

    assert [(kind, name) for kind, name, *_ in found(text)] == [("decision", "platform"), ("decision", "pricing")]
