"""The coach's tools (Anthropic tool use, in the same call as the answer, so detection costs no extra request) and
what is read back from them.

- `record_decision` {category, option, value, rationale?, confidence}: a decision of the playbook settled;
- `complete_task` {task_id, confidence}: a task of the playbook done;
- `suggest_next_step` {text}: the step the coach recommends next.

Their JSON schemas carry the playbook's categories, options and task ids as enums, but a model may still send
anything: every input is validated against the playbook here, and what fails (invalid JSON, an unknown tool, task
id, category or option, a confidence outside 0-1, text too long) is ignored and logged
(`coach_tool_input_ignored`), never an error for the creator. ToolCallCollector reads the tool calls from the
gateway's forwarded frames as they pass: content_block_start (type tool_use) opens a call, input_json_delta
fragments build its input, content_block_stop closes it.
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from creators.chat.actions import ActionKind, ActionSource, DetectedAction
from creators.playbooks import Playbook

logger = logging.getLogger(__name__)

RECORD_DECISION = "record_decision"
COMPLETE_TASK = "complete_task"
SUGGEST_NEXT_STEP = "suggest_next_step"
VALUE_MAX = 500  # creators.models.Decision.value
RATIONALE_MAX = 2000
NEXT_STEP_MAX = 500
CONFIDENCE_PLACES = Decimal("0.001")  # creators.models.Decision.confidence
CONFIDENCE = {"type": "number", "minimum": 0, "maximum": 1,
              "description": "How sure you are, from 0 (a guess) to 1 (the creator said so explicitly)."}


def coach_tools(playbook: Playbook) -> list[dict[str, Any]]:
    """The tool definitions sent with every coach request, their enums from the playbook."""
    options = sorted({option.value for decision in playbook.decisions for option in decision.options})
    return [
        {"name": RECORD_DECISION,
         "description": "Record a decision of the plan the creator has clearly settled in this conversation.",
         "input_schema": {"type": "object", "additionalProperties": False,
                          "required": ["category", "option", "value", "confidence"],
                          "properties": {
                              "category": {"type": "string", "enum": [d.category for d in playbook.decisions]},
                              "option": {"type": "string", "enum": options,
                                         "description": "One of the category's option values."},
                              "value": {"type": "string", "maxLength": VALUE_MAX,
                                        "description": "The decision in the creator's words, e.g. $29 a month."},
                              "rationale": {"type": "string", "maxLength": RATIONALE_MAX},
                              "confidence": CONFIDENCE}}},
        {"name": COMPLETE_TASK,
         "description": "Mark a task of the plan done when the creator says they have done it.",
         "input_schema": {"type": "object", "additionalProperties": False, "required": ["task_id", "confidence"],
                          "properties": {"task_id": {"type": "string", "enum": [t.id for t in playbook.tasks]},
                                         "confidence": CONFIDENCE}}},
        {"name": SUGGEST_NEXT_STEP,
         "description": "The one next step you recommend to the creator.",
         "input_schema": {"type": "object", "additionalProperties": False, "required": ["text"],
                          "properties": {"text": {"type": "string", "maxLength": NEXT_STEP_MAX}}}},
    ]


class ToolInputInvalid(ValueError):
    """A tool call the playbook does not allow; the message says why (for the log)."""


def tool_action(*, name: str, raw_input: str, playbook: Playbook) -> DetectedAction:
    """The detected action a tool call stands for; ToolInputInvalid when its input does not hold."""
    try:
        data = orjson.loads(raw_input or b"{}")
    except orjson.JSONDecodeError as error:
        raise ToolInputInvalid("invalid_json") from error
    if not isinstance(data, dict):
        raise ToolInputInvalid("not_an_object")
    if name == RECORD_DECISION:
        return _decision_action(data, playbook)
    if name == COMPLETE_TASK:
        return _task_action(data, playbook)
    if name == SUGGEST_NEXT_STEP:
        text = _text(data, "text", NEXT_STEP_MAX, required=True)
        return DetectedAction(kind=ActionKind.NEXT_STEP, source=ActionSource.TOOL, confidence=Decimal(1), text=text)
    raise ToolInputInvalid("unknown_tool")


def _decision_action(data: dict[str, Any], playbook: Playbook) -> DetectedAction:
    decision = playbook.decision(data.get("category")) if isinstance(data.get("category"), str) else None
    if decision is None:
        raise ToolInputInvalid("unknown_category")
    option = data.get("option")
    if not isinstance(option, str) or decision.option(option) is None:
        raise ToolInputInvalid("unknown_option")
    value = _text(data, "value", VALUE_MAX, required=True)
    rationale = _text(data, "rationale", RATIONALE_MAX, required=False)
    return DetectedAction(kind=ActionKind.DECISION, source=ActionSource.TOOL, confidence=_confidence(data),
                          category=decision.category, value=value,
                          data={"option": option, "rationale": rationale}, evidence=value)


def _task_action(data: dict[str, Any], playbook: Playbook) -> DetectedAction:
    task = playbook.task(data.get("task_id")) if isinstance(data.get("task_id"), str) else None
    if task is None:
        raise ToolInputInvalid("unknown_task")
    return DetectedAction(kind=ActionKind.TASK, source=ActionSource.TOOL, confidence=_confidence(data),
                          task_id=task.id, task_title=task.title)


def _confidence(data: dict[str, Any]) -> Decimal:
    raw = data.get("confidence")
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ToolInputInvalid("confidence_not_a_number")
    try:
        confidence = Decimal(str(raw)).quantize(CONFIDENCE_PLACES)
    except InvalidOperation as error:
        raise ToolInputInvalid("confidence_not_a_number") from error
    if not Decimal(0) <= confidence <= Decimal(1):
        raise ToolInputInvalid("confidence_out_of_range")
    return confidence


def _text(data: dict[str, Any], name: str, limit: int, *, required: bool) -> str:
    raw = data.get(name, "")
    if not isinstance(raw, str):
        raise ToolInputInvalid(f"{name}_not_a_string")
    text = " ".join(raw.split())
    if required and not text:
        raise ToolInputInvalid(f"{name}_missing")
    if len(text) > limit:
        raise ToolInputInvalid(f"{name}_too_long")
    return text


class ToolCallCollector:
    """Reads the tool calls out of the gateway's server-sent-event frames as they are forwarded; `actions` holds
    the valid ones in the order they closed. Only frames of a content block are parsed (a cheap prefix test
    first), so text deltas cost a JSON parse and nothing else."""

    BLOCK_EVENTS = (b"event: content_block_start\n", b"event: content_block_delta\n", b"event: content_block_stop\n")

    def __init__(self, *, playbook: Playbook, log_context: str = ""):
        self.playbook = playbook
        self.log_context = log_context
        self.actions: list[DetectedAction] = []
        self.ignored = 0
        self._open: dict[int, tuple[str, list[str]]] = {}  # block index -> (tool name, input fragments)

    def observe(self, frame: bytes) -> None:
        if not frame.startswith(self.BLOCK_EVENTS):
            return
        _, _, payload = frame.partition(b"\ndata: ")
        try:
            event = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return
        kind, index = event.get("type"), event.get("index")
        if kind == "content_block_start":
            block = event.get("content_block") or {}
            if block.get("type") == "tool_use":
                self._open[index] = (str(block.get("name", "")), [])
        elif kind == "content_block_delta" and index in self._open:
            delta = event.get("delta") or {}
            if delta.get("type") == "input_json_delta" and isinstance(delta.get("partial_json"), str):
                self._open[index][1].append(delta["partial_json"])
        elif kind == "content_block_stop" and index in self._open:
            name, fragments = self._open.pop(index)
            self._close(name, "".join(fragments))

    def _close(self, name: str, raw_input: str) -> None:
        try:
            self.actions.append(tool_action(name=name, raw_input=raw_input, playbook=self.playbook))
        except ToolInputInvalid as error:
            self.ignored += 1
            logger.warning("coach_tool_input_ignored %s tool=%s reason=%s", self.log_context, name[:60], error)
