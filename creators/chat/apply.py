"""What the coach does with the actions detected in an exchange, and what the creator does with them afterwards.

`actions_apply` runs after each exchange with everything found (the pattern detector's and the model's tool calls):
one action per decision category, task or next step (the higher confidence wins), each checked against the
playbook and the project. From COACH_AUTO_COMPLETE_CONFIDENCE up a decision is recorded and a task completed at once
(undoable); below it the creator is asked in the chat (to_confirm). Next steps are kept as detected. Invalid ones
(an unknown task or category, a task already done, a decision already current, a closed project) are kept as
ignored, and logged. The result is stored on the message (`detected_actions`), which is what the page shows.

`action_confirm`, `action_dismiss` and `action_undo` act on one stored action by its index in the message, each
allowed from some statuses only (ActionStateInvalid, 409, otherwise).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from creators.chat.actions import ActionKind, ActionSource, ActionStatus, DetectedAction
from creators.models import CoachMessage, Decision, Project, TaskCompletion
from creators.playbooks import Playbook, playbook_get
from creators.selectors import decisions_current, task_done_ids
from creators.services import (
    OPEN_STATUSES,
    CoachError,
    DecisionInvalid,
    ProjectClosed,
    decision_option_nearest,
    decision_record_detected,
    task_toggle,
)

logger = logging.getLogger(__name__)

DECISION_SOURCES = {ActionSource.PATTERN: Decision.Source.DETECTED, ActionSource.TOOL: Decision.Source.AI_TOOL}
# The statuses each of the creator's answers may start from.
CONFIRMABLE = {ActionKind.DECISION: {ActionStatus.TO_CONFIRM}, ActionKind.TASK: {ActionStatus.TO_CONFIRM},
               ActionKind.NEXT_STEP: {ActionStatus.DETECTED}}
DISMISSABLE = frozenset({ActionStatus.TO_CONFIRM, ActionStatus.DETECTED})
UNDOABLE = frozenset({ActionStatus.APPLIED, ActionStatus.CONFIRMED})


class ActionNotFound(CoachError):
    code = "action_not_found"
    status = 404


class ActionStateInvalid(CoachError):
    code = "action_state_invalid"
    status = 409


@dataclass(frozen=True)
class ActionAnswered:
    message: CoachMessage
    index: int
    action: DetectedAction


def auto_confidence() -> Decimal:
    """The confidence from which a detected action is applied without asking (setting, default 0.8)."""
    return Decimal(str(settings.COACH_AUTO_COMPLETE_CONFIDENCE))


def actions_merge(actions: list[DetectedAction]) -> list[DetectedAction]:
    """One action per decision category, per task and per next step (same words), in the order first found; when
    the detector and a tool call both found it, the higher confidence is kept (the first on a tie)."""
    merged: dict[tuple[str, str], DetectedAction] = {}
    for action in actions:
        key = (action.kind, action.category if action.kind == ActionKind.DECISION
               else action.task_id if action.kind == ActionKind.TASK else " ".join(action.text.lower().split()))
        if key not in merged or action.confidence > merged[key].confidence:
            merged[key] = action
    return list(merged.values())


def actions_apply(*, project: Project, message: CoachMessage, actions: list[DetectedAction], user,
                  now: datetime) -> list[DetectedAction]:
    """Apply the exchange's actions (module docstring) and store them on `message`; returns them with their
    status (and `record_id` for what was recorded). One transaction, the project's row locked, so two exchanges
    racing cannot complete a task twice."""
    threshold = auto_confidence()
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        playbook = playbook_get(locked.playbook_key)
        done = task_done_ids(project=locked)
        current = {decision.category: decision for decision in decisions_current(project=locked)}
        applied = []
        for action in actions_merge(actions):
            if action.kind == ActionKind.TASK and not action.task_title and playbook.task(action.task_id):
                action = replace(action, task_title=playbook.task(action.task_id).title)
            reason = _invalid_reason(action, project=locked, playbook=playbook, done=done, current=current)
            if reason:
                logger.info("coach_action_ignored project_id=%s message_id=%s kind=%s source=%s reason=%s",
                            locked.pk, message.pk, action.kind, action.source, reason)
                applied.append(action.with_status(ActionStatus.IGNORED))
            elif action.kind == ActionKind.NEXT_STEP:
                applied.append(action.with_status(ActionStatus.DETECTED))
            elif action.confidence < threshold:
                applied.append(action.with_status(ActionStatus.TO_CONFIRM))
            else:
                recorded = _record(action, project=locked, message=message, user=user, now=now, confirmed=False)
                applied.append(action.with_status(ActionStatus.APPLIED, record_id=recorded))
                if action.kind == ActionKind.TASK:
                    done.add(action.task_id)
        message.detected_actions = [action.as_dict() for action in applied]
        message.save(update_fields=["detected_actions"])
    return applied


def action_confirm(*, project: Project, message_id: int, index: int, user, now: datetime) -> ActionAnswered:
    """The creator says yes to an action put to them: the decision is recorded (confidence 1: they said so) or the
    task completed (method "AI suggested, confirmed"); a next step is only marked. ActionStateInvalid otherwise."""
    with transaction.atomic():
        message, action = _locked_action(project=project, message_id=message_id, index=index)
        if action.status not in CONFIRMABLE.get(action.kind, set()):
            raise _state_invalid(action, "confirmed")
        record_id = None
        if action.kind != ActionKind.NEXT_STEP:
            locked = Project.objects.select_for_update().get(pk=project.pk)
            playbook = playbook_get(locked.playbook_key)
            reason = _invalid_reason(action, project=locked, playbook=playbook, done=task_done_ids(project=locked),
                                     current={})
            if reason:
                raise ActionStateInvalid("This can no longer be applied.", details={"reason": reason})
            record_id = _record(action, project=locked, message=message, user=user, now=now, confirmed=True)
        return _stored(message, index, action.with_status(ActionStatus.CONFIRMED, record_id=record_id))


def action_dismiss(*, project: Project, message_id: int, index: int) -> ActionAnswered:
    """The creator says no: nothing is recorded."""
    with transaction.atomic():
        message, action = _locked_action(project=project, message_id=message_id, index=index)
        if action.status not in DISMISSABLE:
            raise _state_invalid(action, "dismissed")
        return _stored(message, index, action.with_status(ActionStatus.DISMISSED))


def action_undo(*, project: Project, message_id: int, index: int, now: datetime) -> ActionAnswered:
    """Take back an applied or confirmed action: the task's completion is undone (kept, with `undone_at`); the
    decision stops being current and the one it superseded, if any, is current again. When the creator has
    already changed it since (the task unticked, another decision made), nothing else changes."""
    with transaction.atomic():
        message, action = _locked_action(project=project, message_id=message_id, index=index)
        if action.status not in UNDOABLE or action.record_id is None:
            raise _state_invalid(action, "undone")
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if locked.status not in OPEN_STATUSES:
            raise ProjectClosed(f"This project is {locked.status}: it can no longer change.",
                                details={"status": locked.status})
        if action.kind == ActionKind.TASK:
            TaskCompletion.objects.filter(project=locked, pk=action.record_id, undone_at__isnull=True).update(
                undone_at=now)
        else:
            _decision_undo(project=locked, decision_id=action.record_id, now=now)
        logger.info("coach_action_undone project_id=%s message_id=%s index=%s kind=%s", locked.pk, message.pk, index,
                    action.kind)
        return _stored(message, index, action.with_status(ActionStatus.UNDONE))


# --- Helpers -----------------------------------------------------------------------------------------------------

def _invalid_reason(action: DetectedAction, *, project: Project, playbook: Playbook, done: set[str],
                    current: dict[str, Decision]) -> str:
    """Why the action cannot be applied ("" when it can)."""
    if project.status not in OPEN_STATUSES:
        return "project_closed"
    if not Decimal(0) <= action.confidence <= Decimal(1):
        return "confidence_out_of_range"
    if action.kind == ActionKind.DECISION:
        decision = playbook.decision(action.category)
        if decision is None:
            return "unknown_category"
        if not action.value.strip() or decision_option_nearest(
                decision=decision, value=action.value, data=action.data,
                starts_on=project.created_at.date()) is None:
            return "no_option_fits"
        already = current.get(action.category)
        if already is not None and already.value == action.value.strip():
            return "already_current"
        return ""
    if action.kind == ActionKind.TASK:
        if playbook.task(action.task_id) is None:
            return "unknown_task"
        return "already_done" if action.task_id in done else ""
    if action.kind == ActionKind.NEXT_STEP:
        return "" if action.text.strip() else "empty_next_step"
    return "unknown_kind"


def _record(action: DetectedAction, *, project: Project, message: CoachMessage, user, now: datetime,
            confirmed: bool) -> int:
    """Record the decision or complete the task; the new row's id."""
    if action.kind == ActionKind.TASK:
        method = TaskCompletion.Method.AI_CONFIRMED if confirmed else TaskCompletion.Method.AI_AUTOMATIC
        return task_toggle(project=project, task_id=action.task_id, user=user, now=now, method=method,
                           source_message=message).completion.pk
    try:
        return decision_record_detected(
            project=project, category=action.category, value=action.value, data=action.data,
            confidence=Decimal(1) if confirmed else action.confidence,
            source=DECISION_SOURCES.get(action.source, Decision.Source.DETECTED),
            rationale=action.evidence, source_message=message, now=now).pk
    except DecisionInvalid as error:  # checked just before, under the same lock: a playbook changed under us
        raise ActionStateInvalid("This decision can no longer be recorded.", details=error.details) from error


def _decision_undo(*, project: Project, decision_id: int, now: datetime) -> None:
    decision = Decision.objects.filter(project=project, pk=decision_id, is_current=True).first()
    if decision is None:
        return  # replaced since: the creator's newer decision stays
    decision.is_current, decision.superseded_at = False, now
    decision.save(update_fields=["is_current", "superseded_at"])
    previous = decision.data.get("supersedes")
    if previous:
        Decision.objects.filter(project=project, category=decision.category, pk=previous).update(
            is_current=True, superseded_at=None)


def _locked_action(*, project: Project, message_id: int, index: int) -> tuple[CoachMessage, DetectedAction]:
    message = CoachMessage.objects.select_for_update().filter(project=project, pk=message_id).first()
    if message is None or not 0 <= index < len(message.detected_actions):
        raise ActionNotFound("This message has no action with this index.",
                             details={"message_id": message_id, "index": index})
    return message, DetectedAction.from_dict(message.detected_actions[index])


def _stored(message: CoachMessage, index: int, action: DetectedAction) -> ActionAnswered:
    stored = list(message.detected_actions)
    stored[index] = action.as_dict()
    message.detected_actions = stored
    message.save(update_fields=["detected_actions"])
    return ActionAnswered(message=message, index=index, action=action)


def _state_invalid(action: DetectedAction, wanted: str) -> ActionStateInvalid:
    return ActionStateInvalid(f"This action is {action.status}: it cannot be {wanted}.",
                              details={"status": action.status, "kind": action.kind})

