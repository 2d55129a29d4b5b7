"""What the coach finds in an exchange, in one shape whichever detector found it.

`DetectedAction.as_dict()` is what is stored in `CoachMessage.detected_actions` and sent to the page and the API
(the SSE event `coach.actions`), so its keys are a contract: kind, source, confidence, status, and per kind
category/value/data (decision), task_id/task_title (task), text (next_step), plus `evidence` (the words that
triggered it) and, once applied, `record_id` (the Decision or TaskCompletion it made).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from typing import Any


class ActionKind:
    DECISION = "decision"
    TASK = "task"
    NEXT_STEP = "next_step"


class ActionSource:
    PATTERN = "pattern"  # the deterministic detector on the user's message
    TOOL = "tool"  # the model's tool call in the same answer


class ActionStatus:
    DETECTED = "detected"  # found, not yet applied
    APPLIED = "applied"  # recorded (a decision, or a task completed automatically above the threshold)
    TO_CONFIRM = "to_confirm"  # below the threshold: the user is asked in the chat
    CONFIRMED = "confirmed"  # the user confirmed it and it was recorded
    DISMISSED = "dismissed"  # the user said no
    UNDONE = "undone"  # applied, then undone by the user
    IGNORED = "ignored"  # invalid against the playbook (logged), kept for the record


ACTION_STATUSES = (ActionStatus.DETECTED, ActionStatus.APPLIED, ActionStatus.TO_CONFIRM, ActionStatus.CONFIRMED,
                   ActionStatus.DISMISSED, ActionStatus.UNDONE, ActionStatus.IGNORED)


@dataclass(frozen=True)
class DetectedAction:
    kind: str
    source: str
    confidence: Decimal
    category: str = ""
    value: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    task_id: str = ""
    task_title: str = ""
    text: str = ""
    evidence: str = ""
    status: str = ActionStatus.DETECTED
    record_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        stored = asdict(self)
        stored["confidence"] = str(self.confidence)
        return stored

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> DetectedAction:
        return cls(**{**stored, "confidence": Decimal(stored["confidence"])})

    def with_status(self, status: str, *, record_id: int | None = None) -> DetectedAction:
        return replace(self, status=status, record_id=record_id if record_id is not None else self.record_id)
