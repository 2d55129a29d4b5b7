"""Applying what the coach detected in an exchange: above the confidence threshold a decision is recorded and a
task completed at once, below it the creator is asked; the same action found by the detector and a tool call is
applied once; invalid ones are kept as ignored. Then the creator's answers: confirm, dismiss and undo (the task
unticked; a decision's predecessor current again)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings

from creators.chat.actions import ActionKind, ActionSource, ActionStatus, DetectedAction
from creators.chat.apply import (
    ActionNotFound,
    ActionStateInvalid,
    action_confirm,
    action_dismiss,
    action_undo,
    actions_apply,
)
from creators.models import CoachMessage, Decision, Project, TaskCompletion
from creators.services import DecisionInvalid, decision_record, decision_record_detected, project_update
from tests.support.clock import NOW
from tests.support.creators import project_for

pytestmark = pytest.mark.django_db
USD_29 = {"amount": "29.00", "currency": "USD", "interval": "month"}


def price(confidence: str, *, source: str = ActionSource.PATTERN, amount: str = "29.00") -> DetectedAction:
    return DetectedAction(kind=ActionKind.DECISION, source=source, confidence=Decimal(confidence), category="pricing",
                          value=f"{amount} USD a month", data={**USD_29, "amount": amount},
                          evidence=f"I'll charge ${amount}/month.")


def done(task_id: str, confidence: str, *, source: str = ActionSource.PATTERN) -> DetectedAction:
    return DetectedAction(kind=ActionKind.TASK, source=source, confidence=Decimal(confidence), task_id=task_id)


@pytest.fixture
def project(creator) -> Project:
    return project_for(creator)


def said(project: Project, content: str = "I'll charge $29/month.") -> CoachMessage:
    return CoachMessage.objects.create(project=project, user=project.user, role=CoachMessage.Role.USER,
                                       content=content, created_at=NOW)


def apply(project: Project, *actions: DetectedAction, message: CoachMessage | None = None) -> list[DetectedAction]:
    return actions_apply(project=project, message=message or said(project), actions=list(actions), user=project.user,
                         now=NOW)


def current(project: Project, category: str) -> Decision | None:
    return Decision.objects.filter(project=project, category=category, is_current=True).first()


# --- Applying ----------------------------------------------------------------------------------------------------

def test_a_decision_above_the_threshold_is_recorded_from_the_message(project):
    message = said(project)

    [action] = apply(project, price("0.9"), message=message)

    recorded = current(project, "pricing")
    assert (action.status, action.record_id) == (ActionStatus.APPLIED, recorded.pk)
    assert (recorded.value, recorded.source, recorded.confidence, recorded.source_message) == (
        "29.00 USD a month", Decision.Source.DETECTED, Decimal("0.900"), message)
    assert recorded.data["option"] == "single-tier" and recorded.data["amount"] == "29.00"


def test_a_decision_below_the_threshold_is_put_to_the_creator(project):
    [action] = apply(project, price("0.7"))

    assert action.status == ActionStatus.TO_CONFIRM
    assert not Decision.objects.filter(project=project).exists()


def test_a_task_above_the_threshold_is_completed_by_the_coach(project):
    message = said(project, "I created the sales page.")

    [action] = apply(project, done("create-sales-page", "0.9"), message=message)

    completion = TaskCompletion.objects.get(project=project, undone_at__isnull=True)
    assert (action.status, action.record_id, action.task_title) == (ActionStatus.APPLIED, completion.pk,
                                                                     "Publish the sales page")
    assert (completion.method, completion.source_message) == (TaskCompletion.Method.AI_AUTOMATIC, message)


def test_a_task_below_the_threshold_is_put_to_the_creator(project):
    [action] = apply(project, done("create-sales-page", "0.5"))

    assert action.status == ActionStatus.TO_CONFIRM
    assert not TaskCompletion.objects.exists()


@override_settings(COACH_AUTO_COMPLETE_CONFIDENCE="0.95")
def test_the_threshold_is_the_setting(project):
    assert [action.status for action in apply(project, price("0.9"), done("create-space", "0.9"))] == [
        ActionStatus.TO_CONFIRM, ActionStatus.TO_CONFIRM]


def test_the_same_decision_from_the_detector_and_a_tool_is_applied_once_with_the_higher_confidence(project):
    actions = apply(project, price("0.8"), price("0.95", source=ActionSource.TOOL))

    assert [(action.source, action.confidence, action.status) for action in actions] == [
        (ActionSource.TOOL, Decimal("0.95"), ActionStatus.APPLIED)]
    assert list(Decision.objects.filter(project=project).values_list("source", "confidence")) == [
        (Decision.Source.AI_TOOL, Decimal("0.950"))]


def test_the_same_task_found_twice_is_completed_once(project):
    actions = apply(project, done("create-space", "0.9"), done("create-space", "0.9", source=ActionSource.TOOL))

    assert len(actions) == 1
    assert TaskCompletion.objects.filter(project=project).count() == 1


def test_the_actions_are_stored_on_the_message(project):
    message = said(project)

    actions = apply(project, price("0.9"), done("create-space", "0.5"), message=message)

    message.refresh_from_db()
    assert message.detected_actions == [action.as_dict() for action in actions]
    assert [DetectedAction.from_dict(stored) for stored in message.detected_actions] == actions


def test_a_next_step_is_kept_as_detected(project):
    step = DetectedAction(kind=ActionKind.NEXT_STEP, source=ActionSource.TOOL, confidence=Decimal("0.9"),
                          text="Draft the sales page headline.")

    assert [action.status for action in apply(project, step)] == [ActionStatus.DETECTED]


@pytest.mark.parametrize("action", [
    done("no-such-task", "0.9"),
    DetectedAction(kind=ActionKind.DECISION, source=ActionSource.TOOL, confidence=Decimal("0.9"), category="colour",
                   value="blue"),
    DetectedAction(kind=ActionKind.DECISION, source=ActionSource.TOOL, confidence=Decimal("0.9"), category="pricing",
                   value="whatever you think"),
    DetectedAction(kind=ActionKind.DECISION, source=ActionSource.TOOL, confidence=Decimal("1.5"), category="platform",
                   value="Discord", data={"option": "discord"}),
    DetectedAction(kind=ActionKind.NEXT_STEP, source=ActionSource.TOOL, confidence=Decimal("0.9"), text="  "),
], ids=["unknown task", "unknown category", "no option fits", "confidence out of range", "empty next step"])
def test_an_invalid_action_is_ignored_and_kept(project, action):
    [applied] = apply(project, action)

    assert applied.status == ActionStatus.IGNORED
    assert not Decision.objects.exists() and not TaskCompletion.objects.exists()


def test_a_task_already_done_is_ignored_not_unticked(project):
    apply(project, done("create-space", "0.9"))

    [again] = apply(project, done("create-space", "0.9"))

    assert again.status == ActionStatus.IGNORED
    assert TaskCompletion.objects.filter(project=project, undone_at__isnull=True).count() == 1


def test_a_decision_already_current_is_ignored(project):
    apply(project, price("0.9"))

    [again] = apply(project, price("0.9"))

    assert again.status == ActionStatus.IGNORED
    assert Decision.objects.filter(project=project).count() == 1


def test_nothing_is_applied_on_a_closed_project(project):
    project_update(project=project, status=Project.Status.ABANDONED, now=NOW)

    actions = apply(project, price("0.9"), done("create-space", "0.9"))

    assert [action.status for action in actions] == [ActionStatus.IGNORED, ActionStatus.IGNORED]
    assert not Decision.objects.exists() and not TaskCompletion.objects.exists()


# --- Decisions from the chat: the nearest option -----------------------------------------------------------------

@pytest.mark.parametrize(("category", "value", "data", "option"), [
    ("pricing", "29.00 USD a month", USD_29, "single-tier"),
    ("pricing", "29.00 USD a month (premium 99.00 USD)", {**USD_29, "premium_amount": "99.00"}, "two-tiers"),
    ("pricing", "290.00 USD a year", {"amount": "290.00", "currency": "USD", "interval": "year"}, "annual-option"),
    ("timeline", "Launch on December 1, 2026", {"launch_date": "2026-12-01"}, "sprint-2-weeks"),
    ("timeline", "Launch on December 22, 2026", {"launch_date": "2026-12-22"}, "standard-30-days"),
    ("timeline", "Launch on March 15, 2027", {"launch_date": "2027-03-15"}, "gradual-60-days"),
    ("content", "1 prompt a day", {"count": 1, "format": "prompt", "per": "day"}, "daily-prompts"),
    ("content", "2 posts a week", {"count": 2, "format": "post", "per": "week"}, "weekly-live-and-posts"),
    ("platform", "Patreon", {"option": "other"}, "other"),
    ("platform", "circle", {}, "circle"),
])
def test_a_detected_value_is_kept_with_the_nearest_option(project, category, value, data, option):
    recorded = decision_record_detected(project=project, category=category, value=value, data=data,
                                        confidence=Decimal("0.9"), source=Decision.Source.DETECTED, now=NOW)

    assert (recorded.value, recorded.data["option"]) == (value, option)


def test_a_detected_value_no_option_fits_is_refused(project):
    with pytest.raises(DecisionInvalid):
        decision_record_detected(project=project, category="structure", value="something else", data={},
                                 confidence=Decimal("0.9"), source=Decision.Source.DETECTED, now=NOW)


# --- The creator's answers ---------------------------------------------------------------------------------------

def put_to_creator(project: Project, *actions: DetectedAction) -> CoachMessage:
    message = said(project)
    apply(project, *actions, message=message)
    return message


def test_confirming_a_decision_records_it_as_certain(project):
    message = put_to_creator(project, price("0.7"))

    answered = action_confirm(project=project, message_id=message.pk, index=0, user=project.user, now=NOW)

    recorded = current(project, "pricing")
    assert (answered.action.status, answered.action.record_id) == (ActionStatus.CONFIRMED, recorded.pk)
    assert (recorded.confidence, recorded.value) == (Decimal("1.000"), "29.00 USD a month")
    message.refresh_from_db()
    assert message.detected_actions[0]["status"] == ActionStatus.CONFIRMED


def test_confirming_a_task_completes_it_as_suggested_and_confirmed(project):
    message = put_to_creator(project, done("create-space", "0.5"))

    action_confirm(project=project, message_id=message.pk, index=0, user=project.user, now=NOW)

    assert TaskCompletion.objects.get(project=project).method == TaskCompletion.Method.AI_CONFIRMED


def test_an_applied_action_cannot_be_confirmed_or_dismissed(project):
    message = put_to_creator(project, price("0.9"))

    for answer in (lambda: action_confirm(project=project, message_id=message.pk, index=0, user=project.user,
                                          now=NOW),
                   lambda: action_dismiss(project=project, message_id=message.pk, index=0)):
        with pytest.raises(ActionStateInvalid):
            answer()
    assert Decision.objects.filter(project=project).count() == 1


def test_dismissing_records_nothing(project):
    message = put_to_creator(project, price("0.7"))

    answered = action_dismiss(project=project, message_id=message.pk, index=0)

    assert answered.action.status == ActionStatus.DISMISSED
    assert not Decision.objects.exists()
    with pytest.raises(ActionStateInvalid):
        action_confirm(project=project, message_id=message.pk, index=0, user=project.user, now=NOW)


def test_an_index_past_the_actions_is_not_found(project):
    message = put_to_creator(project, price("0.7"))

    with pytest.raises(ActionNotFound):
        action_dismiss(project=project, message_id=message.pk, index=1)


def test_undoing_a_completed_task_unticks_it(project):
    message = put_to_creator(project, done("create-space", "0.9"))

    answered = action_undo(project=project, message_id=message.pk, index=0, now=NOW + timedelta(minutes=1))

    assert answered.action.status == ActionStatus.UNDONE
    assert TaskCompletion.objects.get(project=project).undone_at == NOW + timedelta(minutes=1)
    with pytest.raises(ActionStateInvalid):
        action_undo(project=project, message_id=message.pk, index=0, now=NOW)


def test_undoing_a_decision_makes_the_one_it_replaced_current_again(project):
    chosen = decision_record(project=project, category="pricing", option="two-tiers", now=NOW)
    message = put_to_creator(project, price("0.9"))

    action_undo(project=project, message_id=message.pk, index=0, now=NOW)

    assert current(project, "pricing") == chosen
    assert Decision.objects.filter(project=project).count() == 2


def test_undoing_the_first_decision_leaves_none(project):
    message = put_to_creator(project, price("0.9"))

    action_undo(project=project, message_id=message.pk, index=0, now=NOW)

    assert current(project, "pricing") is None


def test_undoing_a_decision_replaced_since_keeps_the_newer_one(project):
    message = put_to_creator(project, price("0.9"))
    newer = decision_record(project=project, category="pricing", option="two-tiers", now=NOW)

    answered = action_undo(project=project, message_id=message.pk, index=0, now=NOW)

    assert answered.action.status == ActionStatus.UNDONE
    assert current(project, "pricing") == newer
