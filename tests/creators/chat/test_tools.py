"""The coach's tools: their schemas carry the playbook's enums, every tool input is validated against the
playbook (what fails is ignored and logged, never raised), and the tool calls are read from the forwarded
frames of a recorded stream as they pass."""

import logging
from decimal import Decimal

import pytest

from creators.chat.actions import ActionKind, ActionSource
from creators.chat.tools import ToolCallCollector, ToolInputInvalid, coach_tools, tool_action
from creators.playbooks import playbook_get
from tests.support.anthropic import sse_fixture

PLAYBOOK = playbook_get("premium-community")


def frames_of(name: str) -> list[bytes]:
    return [frame + b"\n\n" for frame in sse_fixture(name).rstrip(b"\n").split(b"\n\n")]


def test_the_schemas_offer_only_the_playbooks_categories_options_and_task_ids():
    tools = {tool["name"]: tool["input_schema"] for tool in coach_tools(PLAYBOOK)}

    assert set(tools) == {"record_decision", "complete_task", "suggest_next_step"}
    decision = tools["record_decision"]["properties"]
    assert decision["category"]["enum"] == ["platform", "pricing", "structure", "timeline", "content"]
    assert {"discord", "single-tier", "weekly-live-and-posts"} <= set(decision["option"]["enum"])
    assert decision["confidence"] == {"type": "number", "minimum": 0, "maximum": 1,
                                      "description": decision["confidence"]["description"]}
    assert len(tools["complete_task"]["properties"]["task_id"]["enum"]) == 22


def test_a_valid_decision_becomes_a_tool_decision_with_its_option_and_rationale():
    action = tool_action(name="record_decision", playbook=PLAYBOOK, raw_input='{"category": "pricing", "option": '
                         '"single-tier", "value": " $29  a month ", "rationale": "Simple.", "confidence": 0.9}')

    assert action.as_dict() == {
        "kind": ActionKind.DECISION, "source": ActionSource.TOOL, "confidence": "0.900", "category": "pricing",
        "value": "$29 a month", "data": {"option": "single-tier", "rationale": "Simple."}, "task_id": "",
        "task_title": "", "text": "", "evidence": "$29 a month", "status": "detected", "record_id": None}


def test_a_valid_task_completion_carries_the_playbooks_title():
    action = tool_action(name="complete_task", playbook=PLAYBOOK,
                         raw_input='{"task_id": "choose-platform", "confidence": 1}')

    assert (action.kind, action.task_id, action.task_title, action.confidence) == (
        ActionKind.TASK, "choose-platform", PLAYBOOK.task("choose-platform").title, Decimal("1.000"))


@pytest.mark.parametrize(("name", "raw_input", "reason"), [
    ("complete_task", '{"task_id": "make-coffee", "confidence": 0.9}', "unknown_task"),
    ("complete_task", '{"task_id": "choose-platform", "confidence": 1.5}', "confidence_out_of_range"),
    ("complete_task", '{"task_id": "choose-platform", "confidence": -0.1}', "confidence_out_of_range"),
    ("complete_task", '{"task_id": "choose-platform", "confidence": true}', "confidence_not_a_number"),
    ("complete_task", '{"task_id": "choose-platform", "confidence": "0.9"}', "confidence_not_a_number"),
    ("complete_task", '{"task_id": "choose-platform"}', "confidence_not_a_number"),
    ("record_decision", '{"category": "mood", "option": "discord", "value": "x", "confidence": 0.9}',
     "unknown_category"),
    ("record_decision", '{"category": "pricing", "option": "discord", "value": "x", "confidence": 0.9}',
     "unknown_option"),
    ("record_decision", '{"category": "pricing", "option": "single-tier", "value": "  ", "confidence": 0.9}',
     "value_missing"),
    ("record_decision", '{"category": "pricing", "option": "single-tier", "value": "' + "x" * 501 + '", '
     '"confidence": 0.9}', "value_too_long"),
    ("record_decision", '{"category": "pricing", "option": "single-tier", "value": 29, "confidence": 0.9}',
     "value_not_a_string"),
    ("suggest_next_step", '{"text": ""}', "text_missing"),
    ("suggest_next_step", '["a list"]', "not_an_object"),
    ("record_decision", '{"category": "pricing", "option": "single-', "invalid_json"),
    ("order_pizza", "{}", "unknown_tool"),
])
def test_an_input_the_playbook_does_not_allow_is_refused_with_its_reason(name, raw_input, reason):
    with pytest.raises(ToolInputInvalid, match=reason):
        tool_action(name=name, raw_input=raw_input, playbook=PLAYBOOK)


def test_the_collector_reads_every_tool_call_of_a_recorded_stream():
    collector = ToolCallCollector(playbook=PLAYBOOK)

    for frame in frames_of("tool_use_response"):
        collector.observe(frame)

    assert [(action.kind, action.category or action.task_id or action.text) for action in collector.actions] == [
        ("decision", "pricing"), ("task", "choose-platform"),
        ("next_step", "Write your community's promise in one sentence.")]
    assert collector.ignored == 0


def test_a_tool_call_with_broken_json_is_ignored_and_logged(caplog):
    collector = ToolCallCollector(playbook=PLAYBOOK, log_context="tenant=1 message_id=2")

    with caplog.at_level(logging.WARNING, logger="creators.chat.tools"):
        for frame in frames_of("tool_use_invalid_json_response"):
            collector.observe(frame)

    assert collector.actions == [] and collector.ignored == 1
    assert caplog.messages == ["coach_tool_input_ignored tenant=1 message_id=2 tool=record_decision "
                               "reason=invalid_json"]
