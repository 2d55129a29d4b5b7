"""The coach's chat through the API against the fake upstream: the streamed events in order, the request the
gateway sends (model, tools, temperature), what is stored and charged (the answer's tokens and cost, the wallet
feature `coach`, one `coach_messages` event), tool calls applied with the pattern detector's actions, invalid tool
input ignored, a client that leaves, an answer that breaks off, the history, and the refusals."""

import json
import logging
from decimal import Decimal

import httpx2
import pytest
from django.conf import settings
from django.test import override_settings
from django_tenants.utils import schema_context

from creators.models import CoachMessage, Decision, Project, TaskCompletion
from metering.models import AiReservationRecord, UsageEvent, Wallet, WalletEntry
from metering.wallets.services import wallet_debit
from tests.creators.chat.conftest import messages_of, send_message
from tests.creators.content.conftest import server_closes, sse_events
from tests.support.anthropic import START_BALANCE, sse_fixture

pytestmark = pytest.mark.django_db

SAYS = "I'll launch on Discord at $29/month."


def coach_events(upstream, chat, chat_project, fixture="tool_use_response", text=SAYS):
    upstream.answer_sse(fixture)
    response = send_message(chat, chat_project.pk, text)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/event-stream"
    return sse_events(response)


def test_the_stream_sends_the_users_message_the_answer_the_usage_the_actions_then_the_coachs_message(
        upstream, chat, chat_project, funded):
    events = coach_events(upstream, chat, chat_project)

    names = [name for name, _ in events]
    assert names[0] == "coach.user_message"
    assert names[1] == "message_start" and "content_block_delta" in names
    assert names[-3:] == ["tollgate.usage", "coach.actions", "coach.message"]
    _, user, answer = messages_of(funded, chat_project.pk)
    assert events[0][1]["id"] == user.pk and user.content == SAYS
    assert {(a["kind"], a["category"]) for a in events[0][1]["detected_actions"]} == {
        ("decision", "platform"), ("decision", "pricing")}
    assert events[-1][1] == {"type": "coach.message", "id": answer.pk, "status": "complete",
                             "content": "Great choice: $29 a month on Discord suits 50,000 followers. Next, write "
                                        "the promise of your community in one sentence.",
                             "model": settings.AI_COACH_MODEL, "input_tokens": 377, "output_tokens": 141,
                             "cost": format(answer.cost, "f"), "currency": "USD"}
    assert answer.cost == Decimal(events[-3][1]["cost"]["amount"]) > 0


def test_the_gateway_is_asked_with_the_coachs_model_settings_tools_and_prompt(upstream, chat, chat_project):
    coach_events(upstream, chat, chat_project)

    (sent,) = upstream.requests
    assert (sent["model"], sent["max_tokens"], sent["temperature"]) == (settings.AI_COACH_MODEL, 4096, 0.7)
    assert [tool["name"] for tool in sent["tools"]] == ["record_decision", "complete_task", "suggest_next_step"]
    assert sent["system"].startswith("You are the creator's AI partner")
    assert sent["messages"] == [{"role": "user", "content": SAYS}]


def test_the_answer_is_paid_from_the_wallet_under_the_feature_coach(upstream, chat, chat_project, funded):
    coach_events(upstream, chat, chat_project)

    assert Wallet.objects.get(tenant=funded).balance == START_BALANCE - 377 - 141
    features = set(WalletEntry.objects.filter(wallet__tenant=funded, kind="usage_debit")
                   .values_list("feature", flat=True))
    assert features == {"coach"}


def test_each_answered_message_is_one_coach_messages_event(upstream, chat, chat_project, funded):
    coach_events(upstream, chat, chat_project)
    coach_events(upstream, chat, chat_project, text="What next?")

    events = UsageEvent.objects.filter(tenant=funded, meter_code="coach_messages")
    user_ids = [m.pk for m in messages_of(funded, chat_project.pk) if m.role == "user"]
    assert sorted(events.values_list("transaction_id", flat=True)) == [f"coach:{pk}" for pk in user_ids]


def test_tool_calls_and_the_pattern_detector_are_applied_once_and_stored_on_the_users_message(
        upstream, chat, chat_project, funded):
    events = coach_events(upstream, chat, chat_project)

    _, actions = events[-2]
    _, user, _ = messages_of(funded, chat_project.pk)
    assert actions["message_id"] == user.pk
    assert user.detected_actions == actions["detected_actions"]
    assert {"tool", "pattern"} <= {action["source"] for action in actions["detected_actions"]}
    with schema_context(funded.schema_name):
        current = {d.category: d for d in Decision.objects.filter(project=chat_project, is_current=True)}
        assert set(current) == {"platform", "pricing"}
        assert Decision.objects.filter(project=chat_project, category="pricing").count() == 1
        completion = TaskCompletion.objects.get(project=chat_project, task_id="choose-platform")
        assert completion.method == TaskCompletion.Method.AI_AUTOMATIC
    assert any(a["kind"] == "next_step" for a in actions["detected_actions"])


def test_tool_input_with_broken_json_is_ignored_and_logged_and_the_answer_still_completes(
        upstream, chat, chat_project, funded, caplog):
    with caplog.at_level(logging.WARNING, logger="creators.chat.tools"):
        events = coach_events(upstream, chat, chat_project, fixture="tool_use_invalid_json_response",
                              text="Tell me about pricing.")

    assert events[-1][1]["status"] == "complete"
    assert events[-2][1]["detected_actions"] == []
    assert any(m.startswith("coach_tool_input_ignored") and "reason=invalid_json" in m for m in caplog.messages)


def test_tool_calls_outside_the_playbook_are_ignored_not_a_500(upstream, chat, chat_project, funded, caplog):
    # The recording with an unknown task id and a decision's confidence of 1.7.
    body = sse_fixture("tool_use_response").replace(b"choose-pla", b"make-cof").replace(b"0.9}", b"1.7}")
    upstream.respond = lambda request: httpx2.Response(200, headers={"content-type": "text/event-stream"},
                                                       content=body)

    with caplog.at_level(logging.WARNING, logger="creators.chat.tools"):
        events = sse_events(send_message(chat, chat_project.pk, "Tell me more."))

    assert events[-1][1]["status"] == "complete"
    assert [a["kind"] for a in events[-2][1]["detected_actions"]] == ["next_step"]
    reasons = sorted(m.rsplit("reason=", 1)[1] for m in caplog.messages if "coach_tool_input_ignored" in m)
    assert reasons == ["confidence_out_of_range", "unknown_task"]


def test_a_client_that_leaves_mid_answer_pays_for_what_was_sent_and_the_answer_is_kept_as_interrupted(
        upstream, chat, chat_project, funded):
    upstream.answer_sse("tool_use_response")
    response = send_message(chat, chat_project.pk, "Hello coach.")
    frames = iter(response.streaming_content)
    received = b""
    while b"Great" not in received:
        received += next(frames)

    server_closes(response)

    *_, answer = messages_of(funded, chat_project.pk)
    assert (answer.status, answer.content) == ("interrupted", "Great")
    record = AiReservationRecord.objects.get(tenant=funded)
    assert record.settled_at is not None
    assert START_BALANCE - Wallet.objects.get(tenant=funded).balance == answer.input_tokens + answer.output_tokens > 0
    assert answer.request_id == record.request_id


def test_an_answer_that_breaks_off_before_any_text_is_failed_and_not_metered(upstream, chat, chat_project,
                                                                            funded):
    upstream.answer_sse_cut("tool_use_response", after="message_start", broken=True)

    events = sse_events(send_message(chat, chat_project.pk, "Hello coach."))

    assert "error" in [name for name, _ in events]
    assert events[-1][1]["status"] == "failed"
    assert not UsageEvent.objects.filter(tenant=funded, meter_code="coach_messages").exists()


@override_settings(ANTHROPIC_API_KEY="")
def test_without_an_anthropic_key_the_message_is_kept_its_decisions_recorded_and_the_answer_is_a_plain_503(
        chat, chat_project, funded):
    response = send_message(chat, chat_project.pk, SAYS)

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "ai_unavailable"
    assert "Anthropic key" in error["message"]
    _, user = messages_of(funded, chat_project.pk)
    assert error["details"]["user_message"]["id"] == user.pk
    assert error["details"]["user_message"]["detected_actions"] == user.detected_actions != []
    with schema_context(funded.schema_name):
        assert set(Decision.objects.filter(project=chat_project, is_current=True)
                   .values_list("category", flat=True)) == {"platform", "pricing"}
    assert not AiReservationRecord.objects.filter(tenant=funded).exists()


def test_an_empty_wallet_is_refused_with_402_before_anything_is_sent_and_the_message_is_kept(
        upstream, chat, chat_project, funded):
    wallet_debit(tenant=funded, tokens=START_BALANCE - 10, feature="ai_api", reason="spent", idempotency_key="spent")

    response = send_message(chat, chat_project.pk, SAYS)

    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_balance"
    assert response.json()["error"]["details"]["user_message"]["id"] == messages_of(funded, chat_project.pk)[-1].pk
    assert upstream.requests == []
    assert [m.role for m in messages_of(funded, chat_project.pk)] == ["assistant", "user"]


def test_the_history_pages_from_the_newest_message_back(upstream, chat, chat_project, funded):
    coach_events(upstream, chat, chat_project)

    first = chat.get(f"/api/v1/coach/projects/{chat_project.pk}/messages?limit=2").json()
    older = chat.get(f"/api/v1/coach/projects/{chat_project.pk}/messages?limit=2&cursor={first['next_cursor']}")

    welcome, user, answer = messages_of(funded, chat_project.pk)
    assert [m["id"] for m in first["data"]] == [answer.pk, user.pk]
    assert first["data"][0]["model"] == settings.AI_COACH_MODEL
    assert first["data"][1]["detected_actions"] == user.detected_actions
    assert [m["id"] for m in older.json()["data"]] == [welcome.pk]
    assert older.json()["has_more"] is False


def test_a_closed_project_is_refused_with_409(upstream, chat, chat_project, funded):
    with schema_context(funded.schema_name):
        Project.objects.filter(pk=chat_project.pk).update(status="abandoned")

    response = send_message(chat, chat_project.pk, SAYS)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "project_closed"
    assert len(messages_of(funded, chat_project.pk)) == 1


@pytest.mark.parametrize("body", [{"content": "   "}, {"content": 42}, {}, {"content": "x" * 4001},
                                  {"content": "hi", "extra": 1}])
def test_a_message_that_is_not_text_is_refused_with_400(upstream, chat, chat_project, funded, body):
    response = chat.post(f"/api/v1/coach/projects/{chat_project.pk}/messages", json.dumps(body),
                         content_type="application/json")

    assert response.status_code == 400
    assert len(messages_of(funded, chat_project.pk)) == 1
    assert upstream.requests == []


def test_a_project_that_is_not_yours_is_404(upstream, chat, funded):
    response = send_message(chat, 999_999, SAYS)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "project_not_found"
    assert CoachMessage.objects.none().count() == 0
