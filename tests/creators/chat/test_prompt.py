"""The coach's prompt: a snapshot of the system prompt and messages for a fixed project, and the token budget that
trims the oldest history first. Refresh the snapshot on purpose (a new PROMPT_VERSION when the wording changes):
UPDATE_SNAPSHOTS=1 ./dev test tests/creators/chat/test_prompt.py."""

import json
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from creators.chat.prompt import PROMPT_VERSION, coach_prompt_build, conversation_messages
from creators.chat.selectors import coach_context_get, coach_history_get
from creators.models import CoachMessage
from creators.services import decision_record, task_toggle
from metering.gateway.services import input_tokens_estimate
from tests.support.clock import NOW
from tests.support.creators import project_for

pytestmark = pytest.mark.django_db

SNAPSHOT = Path(__file__).resolve().parent / "snapshots" / f"{PROMPT_VERSION}_premium_community.txt"


def say(project, user, role, content, minutes):
    return CoachMessage.objects.create(project=project, user=user, role=role, content=content,
                                       created_at=NOW + timedelta(minutes=minutes))


@pytest.fixture
def halfway(creator):
    project = project_for(creator, audience_top_countries=({"country": "US", "percent": 55},),
                          signals="Asks for sourdough starter help every week.")
    decision_record(project=project, category="platform", option="discord", now=NOW, confidence=Decimal("0.9"))
    for task_id in ("audience-survey", "define-promise", "choose-platform"):
        task_toggle(project=project, task_id=task_id, user=creator, now=NOW)
    say(project, creator, CoachMessage.Role.USER, "I have 50k followers, most bake on weekends.", 1)
    say(project, creator, CoachMessage.Role.ASSISTANT, "Then a weekend bake-along is your core ritual.", 2)
    return project


def rendered(prompt) -> str:
    return f"{prompt.system}\n\n--- messages ---\n{json.dumps(prompt.messages, indent=1)}\n"


def test_the_prompt_of_a_fixed_project_matches_its_snapshot(halfway, creator):
    today = NOW.date() + timedelta(days=3)
    current = say(halfway, creator, CoachMessage.Role.USER, "What should I charge?", 3)

    prompt = coach_prompt_build(context=coach_context_get(project=halfway, today=today),
                                history=coach_history_get(project=halfway, before_id=current.pk),
                                text=current.content, today=today)

    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(rendered(prompt), encoding="utf-8")
    assert rendered(prompt) == SNAPSHOT.read_text(encoding="utf-8")


def test_the_welcome_is_not_sent_as_the_first_turn_because_anthropic_starts_with_the_user():
    messages = conversation_messages(turns=[("assistant", "Welcome!"), ("user", "Hi"), ("assistant", "Hello")],
                                     text="Price?")

    assert messages == [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"},
                        {"role": "user", "content": "Price?"}]


def test_messages_sent_while_the_coach_could_not_answer_are_joined_into_one_turn():
    messages = conversation_messages(turns=[("user", "I chose Discord."), ("user", "And $29 a month.")],
                                     text="Now what?")

    assert messages == [{"role": "user", "content": "I chose Discord.\n\nAnd $29 a month.\n\nNow what?"}]


def test_over_the_budget_the_oldest_history_goes_first_and_the_new_message_stays(halfway, creator):
    for minute in range(10, 20):
        say(halfway, creator, CoachMessage.Role.USER if minute % 2 == 0 else CoachMessage.Role.ASSISTANT,
            f"message {minute} " + "x" * 500, minute)
    context = coach_context_get(project=halfway, today=NOW.date())
    history = coach_history_get(project=halfway, before_id=10**9)
    whole = coach_prompt_build(context=context, history=history, text="Latest?", today=NOW.date(), budget=10**6)
    budget = whole.input_estimate - 1200

    trimmed = coach_prompt_build(context=context, history=history, text="Latest?", today=NOW.date(), budget=budget)

    assert trimmed.input_estimate <= budget
    assert trimmed.messages[-1] == {"role": "user", "content": "Latest?"}
    assert trimmed.messages[0]["role"] == "user"
    kept = [message["content"][:10] for message in trimmed.messages]
    assert "message 10" not in kept and kept[-2].startswith("message 19")
    assert trimmed.system == whole.system
    assert input_tokens_estimate(system=trimmed.system, messages=trimmed.messages) == trimmed.input_estimate


def test_a_prompt_too_big_for_the_budget_still_keeps_the_system_prompt_and_the_new_message(halfway):
    context = coach_context_get(project=halfway, today=NOW.date())

    prompt = coach_prompt_build(context=context, history=[], text="Hi", today=NOW.date(), budget=10)

    assert prompt.messages == [{"role": "user", "content": "Hi"}]
    assert prompt.system.startswith("You are the creator's AI partner")
