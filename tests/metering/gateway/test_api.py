"""The metered AI API through the real Anthropic SDK, answered by recorded fixtures over an httpx2 MockTransport."""

from __future__ import annotations

import json
import uuid
from unittest import mock

import httpx2
import pytest
import time_machine
from django.core.signals import request_finished
from django.db import close_old_connections
from django.test import override_settings
from django.utils import timezone

from config.redis_guard import redis_connection
from metering.gateway import services as ai_services
from metering.gateway.services import AI_REQUEST_MAX_S, USAGE_CHECKPOINT_S, ai_slot_acquire
from metering.models import AiReservationRecord, UsageEvent, Wallet, WalletEntry
from metering.wallets.services import wallet_credit
from tests.support.anthropic import MODEL, PROMPT, RESERVED, START_BALANCE, post
from tests.support.api import api_client, api_key_for

pytestmark = pytest.mark.django_db


def balance(tenant) -> int:
    return Wallet.objects.get(tenant=tenant).balance


def ai_entries(tenant) -> list[tuple[str, int, str]]:
    return [(entry.kind, entry.tokens, entry.idempotency_key.split(":")[0])
            for entry in WalletEntry.objects.filter(wallet__tenant=tenant).exclude(kind="purchase").order_by("id")]


def usage_events(tenant) -> dict[str, dict]:
    return {event.meter_code: event.properties for event in UsageEvent.objects.filter(tenant=tenant)
            if event.meter_code.startswith("ai_")}


def server_closes(response) -> None:
    """What the WSGI server does when the client goes away: close the response. The request_finished signal
    would close the test's database connection; the test client's own wrapper (which closes the response when
    its iterator is closed) must not reconnect that receiver halfway."""
    request_finished.disconnect(close_old_connections)
    try:
        with mock.patch("django.test.client.close_old_connections", lambda **kwargs: None):
            response.close()
    finally:
        request_finished.connect(close_old_connections)


def sse_events(response) -> list[tuple[str, dict]]:
    text = b"".join(response.streaming_content).decode()
    events = []
    for frame in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.split("\n"))
        events.append((lines["event"], json.loads(lines["data"])))
    return events


# --- Non-streaming -----------------------------------------------------------------------------------------

def test_a_message_is_answered_metered_priced_and_settled(upstream, ai, funded):
    upstream.answer_json(text="Hello there!", input_tokens=12, output_tokens=7)

    response = post(ai, {**PROMPT, "system": "Be brief.", "temperature": 0.2})

    assert response.status_code == 200
    assert response.json() == {
        "id": "msg_01TestNonStreaming", "model": MODEL, "content": [{"type": "text", "text": "Hello there!"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 12, "output_tokens": 7, "cache_creation_input_tokens": 0,
                  "cache_read_input_tokens": 0, "total_tokens": 19},
        # 12 x $1/MTok + 7 x $5/MTok = $0.000047
        "cost": {"amount": "0.000047", "currency": "USD"},
    }
    assert upstream.requests == [{"model": MODEL, "max_tokens": 100, "system": "Be brief.", "temperature": 0.2,
                                  "messages": [{"role": "user", "content": "Say hello, please."}]}]
    # "Be brief." adds 9 bytes: 27 in all, an estimate of 51 input tokens with the framing.
    assert ai_entries(funded) == [("usage_debit", -151, "ai-reserve"), ("refund", 151 - 19, "ai-settle")]
    assert balance(funded) == START_BALANCE - 19
    assert usage_events(funded) == {
        "ai_input_tokens": {"tokens": 12, "model": MODEL, "cache_write": 0, "cache_read": 0},
        "ai_output_tokens": {"tokens": 7, "model": MODEL, "cache_write": 0, "cache_read": 0},
    }


def test_cache_tokens_count_as_input_and_are_priced_at_their_own_rates(upstream, ai, funded):
    upstream.answer_json(input_tokens=10, output_tokens=20, cache_write=1000, cache_read=2000)

    body = post(ai, PROMPT).json()

    assert body["usage"]["total_tokens"] == 3030
    # 10 x 1 + 20 x 5 + 1000 x 1.25 + 2000 x 0.10 = 1560 micro-dollars
    assert body["cost"] == {"amount": "0.001560", "currency": "USD"}
    assert usage_events(funded)["ai_input_tokens"] == {"tokens": 3010, "model": MODEL, "cache_write": 1000,
                                                       "cache_read": 2000}
    # Over the reservation (105): the difference is debited once more.
    assert ai_entries(funded) == [("usage_debit", -RESERVED, "ai-reserve"),
                                  ("usage_debit", -(3030 - RESERVED), "ai-settle")]
    assert balance(funded) == START_BALANCE - 3030


# Dense prompts and what Claude's tokenizer makes of them (measured on similar text: Japanese runs at one token
# per character or more, an emoji at up to 3 tokens), plus the framing: characters / 4 underestimated them by 4
# to 12 times.
DENSE_PROMPTS = {
    "japanese": ("東京の秋の夜、月を見上げて静かな詩を書いてください。" * 8, 25 * 8 * 13 // 10 + 8),
    "emoji": ("🎉🚀🌕✨" * 40, 160 * 3 + 8),
}


@pytest.mark.parametrize("name", DENSE_PROMPTS)
def test_cjk_prompt_reservation_covers_real_input_usage(upstream, ai, funded, name):
    prompt, input_tokens = DENSE_PROMPTS[name]
    upstream.answer_json(input_tokens=input_tokens, output_tokens=100)

    response = post(ai, {**PROMPT, "messages": [{"role": "user", "content": prompt}]})

    assert response.json()["usage"]["total_tokens"] == input_tokens + 100
    reserved = -WalletEntry.objects.get(wallet__tenant=funded, idempotency_key__startswith="ai-reserve:").tokens
    assert reserved >= input_tokens + 100
    # The settlement is a refund: nothing went over the reservation.
    assert [kind for kind, _, key in ai_entries(funded) if key == "ai-settle"] == ["refund"]
    assert balance(funded) == START_BALANCE - input_tokens - 100


# --- Streaming ---------------------------------------------------------------------------------------------

def test_a_stream_passes_anthropics_events_through_then_tells_usage_and_cost(upstream, ai, funded):
    upstream.answer_sse("basic_response")

    response = post(ai, {**PROMPT, "stream": True})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert (response["Cache-Control"], response["X-Accel-Buffering"]) == ("no-cache", "no")
    events = sse_events(response)
    assert [name for name, _ in events] == [
        "message_start", "content_block_start", "content_block_delta", "content_block_delta",
        "content_block_delta", "content_block_stop", "message_delta", "message_stop", "tollgate.usage"]
    assert "".join(data["delta"]["text"] for name, data in events if name == "content_block_delta") == "Hello there!"
    assert events[-1][1] == {
        "type": "tollgate.usage", "id": "msg_4QpJur2dWWDjF6C758FbBw5vm12BaVipnK", "stop_reason": "end_turn",
        "usage": {"input_tokens": 11, "output_tokens": 6, "cache_creation_input_tokens": 0,
                  "cache_read_input_tokens": 0, "total_tokens": 17},
        "cost": {"amount": "0.000041", "currency": "USD"},
    }
    assert upstream.requests[0]["stream"] is True
    assert balance(funded) == START_BALANCE - 17
    assert ai_entries(funded) == [("usage_debit", -RESERVED, "ai-reserve"), ("refund", RESERVED - 17, "ai-settle")]


def test_a_refusal_is_streamed_and_its_tokens_are_charged(upstream, ai, funded):
    upstream.answer_sse("refusal_response")

    events = sse_events(post(ai, {**PROMPT, "stream": True}))

    delta = dict(events)["message_delta"]
    assert delta["delta"]["stop_reason"] == "refusal"
    assert delta["delta"]["stop_details"]["category"] == "cyber"
    usage = events[-1][1]
    assert (usage["stop_reason"], usage["usage"]["total_tokens"]) == ("refusal", 140)
    assert balance(funded) == START_BALANCE - 140


def test_usage_sent_only_in_message_delta_is_metered(upstream, ai, funded):
    upstream.answer_sse("usage_in_message_delta")

    events = sse_events(post(ai, {**PROMPT, "stream": True}))

    assert events[-1][1]["usage"] == {"input_tokens": 11, "output_tokens": 1, "cache_creation_input_tokens": 3,
                                      "cache_read_input_tokens": 5, "total_tokens": 20}
    # 11 x 1 + 1 x 5 + 3 x 1.25 + 5 x 0.10 = 20.25 micro-dollars
    assert events[-1][1]["cost"]["amount"] == "0.000020"
    assert usage_events(funded)["ai_input_tokens"]["tokens"] == 19
    assert balance(funded) == START_BALANCE - 20


def test_a_client_leaving_mid_stream_is_charged_once_for_what_was_generated(upstream, ai, funded):
    upstream.answer_sse("basic_response")
    response = post(ai, {**PROMPT, "stream": True})

    first = next(iter(response.streaming_content))
    server_closes(response)
    server_closes(response)

    assert first.startswith(b"event: message_start")
    # Only message_start was read: 11 input tokens and 1 output token so far.
    assert ai_entries(funded) == [("usage_debit", -RESERVED, "ai-reserve"), ("refund", RESERVED - 12, "ai-settle")]
    assert balance(funded) == START_BALANCE - 12
    assert UsageEvent.objects.filter(tenant=funded, meter_code__startswith="ai_").count() == 2


def test_a_stream_closed_before_its_first_event_returns_the_reservation(upstream, ai, funded):
    upstream.answer_sse("basic_response")

    server_closes(post(ai, {**PROMPT, "stream": True}))

    assert balance(funded) == START_BALANCE
    assert ai_entries(funded) == [("usage_debit", -RESERVED, "ai-reserve"), ("refund", RESERVED, "ai-settle")]


def read_until_deltas(response, count: int) -> list[bytes]:
    frames, seen = [], 0
    for frame in response.streaming_content:
        frames.append(frame)
        seen += frame.startswith(b"event: content_block_delta")
        if seen == count:
            return frames
    raise AssertionError(f"fewer than {count} deltas")


def test_client_disconnect_mid_stream_is_charged_for_forwarded_text(upstream, ai, funded):
    upstream.answer_sse("basic_response")
    response = post(ai, {**PROMPT, "stream": True})

    frames = read_until_deltas(response, 3)
    server_closes(response)

    assert b"".join(frames).count(b'"text_delta"') == 3
    # "Hello there!" was forwarded: 12 UTF-8 bytes, so 12 output tokens (not message_start's 1), and the 11
    # input tokens message_start told.
    assert usage_events(funded)["ai_output_tokens"]["tokens"] == 12
    assert ai_entries(funded) == [("usage_debit", -RESERVED, "ai-reserve"), ("refund", RESERVED - 23, "ai-settle")]
    assert balance(funded) == START_BALANCE - 23


@pytest.mark.parametrize("broken", [False, True], ids=["upstream_stopped", "connection_broke"])
def test_upstream_cut_mid_stream_is_charged_for_forwarded_text(upstream, ai, funded, broken):
    upstream.answer_sse_cut("basic_response", after="content_block_delta", broken=broken)

    events = sse_events(post(ai, {**PROMPT, "stream": True}))

    assert "".join(data["delta"]["text"] for name, data in events if name == "content_block_delta") == "Hello there!"
    assert [name for name, _ in events[-2:]] == (["error", "tollgate.usage"] if broken else
                                                 ["content_block_delta", "tollgate.usage"])
    if broken:
        assert events[-2][1]["error"]["code"] == "upstream_unreachable"
    assert events[-1][1]["usage"]["output_tokens"] == 12
    assert balance(funded) == START_BALANCE - 23
    assert redis_connection().zcard(ai_services.slot_key(funded)) == 0


def test_a_cut_stream_is_charged_no_more_output_than_max_tokens(upstream, ai, funded):
    upstream.answer_sse_cut("basic_response", after="content_block_delta", broken=False)

    events = sse_events(post(ai, {**PROMPT, "max_tokens": 5, "stream": True}))

    # 12 bytes forwarded, but Anthropic never generates more than max_tokens.
    assert events[-1][1]["usage"]["output_tokens"] == 5
    assert balance(funded) == START_BALANCE - 16


def test_a_cut_stream_without_reported_input_is_charged_the_input_estimate(upstream, ai, funded):
    # This recording tells the input only in message_delta, which never comes.
    upstream.answer_sse_cut("usage_in_message_delta", after="content_block_delta", broken=True)

    events = sse_events(post(ai, {**PROMPT, "stream": True}))

    assert events[-1][1]["usage"]["input_tokens"] == RESERVED - 100
    assert events[-1][1]["usage"]["output_tokens"] == len(b"hi")
    assert balance(funded) == START_BALANCE - (RESERVED - 100) - 2


def test_a_stream_running_past_the_longest_request_is_cut_and_charged_for_what_it_sent(upstream, ai, funded):
    upstream.answer_sse("basic_response")

    with time_machine.travel(timezone.now(), tick=False) as clock:
        response = post(ai, {**PROMPT, "stream": True})
        frames = iter(response.streaming_content)
        first = next(frames)
        clock.shift(AI_REQUEST_MAX_S)
        rest = b"".join(frames).decode()

    assert first.startswith(b"event: message_start")
    assert rest.startswith("event: error\n") and "upstream_timeout" in rest and "text_delta" not in rest
    assert balance(funded) == START_BALANCE - 12


def test_a_stream_records_its_charge_as_it_goes_for_the_sweep(upstream, ai, funded):
    upstream.answer_sse("basic_response")

    with time_machine.travel(timezone.now(), tick=False) as clock:
        response = post(ai, {**PROMPT, "stream": True})
        frames = iter(response.streaming_content)
        for _ in range(3):  # message_start, content_block_start, the first delta ("Hello")
            next(frames)
        clock.shift(USAGE_CHECKPOINT_S)
        next(frames)  # " there": the charge so far is written to the open record
        recorded = AiReservationRecord.objects.get(tenant=funded).usage
        server_closes(response)

    assert recorded == {"input_tokens": 11, "output_tokens": len(b"Hello there"), "cache_write_tokens": 0,
                        "cache_read_tokens": 0}
    assert AiReservationRecord.objects.get(tenant=funded).outcome == "settled"


# --- Anthropic's failures ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "kind", "expected_status", "expected_code"), [
    (429, "rate_limit_error", 429, "upstream_rate_limited"),
    (529, "overloaded_error", 503, "upstream_overloaded"),
    (400, "invalid_request_error", 400, "upstream_invalid_request"),
    (500, "api_error", 502, "upstream_error"),
])
@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_errors_answer_clearly_and_release_the_whole_reservation(upstream, ai, funded, status, kind,
                                                                         expected_status, expected_code, stream):
    upstream.answer_error(status, kind=kind, message="prompt is too long", headers={"retry-after": "7"})

    response = post(ai, {**PROMPT, "stream": stream})

    assert response.status_code == expected_status
    assert response.json()["error"]["code"] == expected_code
    if status == 429:
        assert response["Retry-After"] == "7"
    if status == 400:
        assert "prompt is too long" in response.json()["error"]["message"]
    assert balance(funded) == START_BALANCE
    assert ai_entries(funded) == [("usage_debit", -RESERVED, "ai-reserve"), ("refund", RESERVED, "ai-settle")]
    assert usage_events(funded) == {}


def test_an_overloaded_anthropic_without_retry_after_still_tells_when_to_retry(upstream, ai):
    upstream.answer_error(529, kind="overloaded_error")

    response = post(ai, PROMPT)

    assert (response.status_code, response["Retry-After"]) == (503, "10")


def test_an_upstream_refusal_tells_when_to_retry_in_the_body_and_the_header(upstream, ai):
    upstream.answer_error(429, kind="rate_limit_error", headers={"retry-after": "7"})

    response = post(ai, PROMPT)

    assert (response.status_code, response["Retry-After"]) == (429, "7")
    assert response.json()["error"]["details"] == {"retry_after_s": 7}


def test_a_timeout_answers_504_and_costs_nothing(upstream, ai, funded):
    upstream.answer_timeout()

    response = post(ai, PROMPT)

    assert response.status_code == 504
    assert response.json()["error"]["code"] == "upstream_timeout"
    assert balance(funded) == START_BALANCE


@pytest.mark.parametrize("stream", [False, True])
def test_sdk_exception_releases_reservation_and_slot(upstream, ai, funded, stream):
    # What the worker's signal handler raises when it is stopped mid-call; the SDK catches only Exception.
    def worker_stopped(request):
        raise SystemExit(1)
    upstream.respond = worker_stopped

    with pytest.raises(SystemExit):
        post(ai, {**PROMPT, "stream": stream})

    assert balance(funded) == START_BALANCE
    assert ai_entries(funded) == [("usage_debit", -RESERVED, "ai-reserve"), ("refund", RESERVED, "ai-settle")]
    assert AiReservationRecord.objects.get(tenant=funded).outcome == "released"
    assert redis_connection().zcard(ai_services.slot_key(funded)) == 0


@pytest.mark.parametrize("body", [b'{"id": "msg_01", "type": "message", "cont',
                                  b'{"id": "msg_01", "type": "message", "content": []}'],
                         ids=["truncated", "without_usage"])
def test_an_unreadable_anthropic_answer_answers_502_and_costs_nothing(upstream, ai, funded, body):
    upstream.respond = lambda request: httpx2.Response(200, headers={"content-type": "application/json"},
                                                       content=body)

    response = post(ai, PROMPT)

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_error"
    assert balance(funded) == START_BALANCE


# --- Refusals before the call --------------------------------------------------------------------------------

def test_without_enough_balance_the_call_is_not_made(upstream, tenant_alpha):
    wallet_credit(tenant=tenant_alpha, tokens=50, kind="purchase", reason="Purchase", idempotency_key="bought")
    client = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["ai"]))

    response = post(client, PROMPT)

    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_balance"
    assert upstream.requests == []
    assert balance(tenant_alpha) == 50


@pytest.mark.parametrize("body", ['{"model": "nope", "surprise": 1}', "not json", '{"messages": []}'])
def test_without_an_anthropic_key_every_request_answers_503_before_validation(tenant_alpha, body):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["ai"]))

    with override_settings(ANTHROPIC_API_KEY=""):
        responses = [client.post(path, body, content_type="application/json")
                     for path in ("/api/v1/ai/messages", "/api/v1/ai/code")]

    for response in responses:
        assert response.status_code == 503
        error = response.json()["error"]
        assert error["code"] == "ai_unavailable"
        assert "ANTHROPIC_API_KEY" in error["message"]


def test_without_an_anthropic_key_an_unauthenticated_request_is_still_401(tenant_alpha):
    with override_settings(ANTHROPIC_API_KEY=""):
        response = post(api_client(tenant_alpha), PROMPT)

    assert response.status_code == 401


def test_the_ai_scope_is_required(upstream, funded):
    client = api_client(funded, api_key_for(funded, scopes=["read", "write", "usage:write"]))

    response = post(client, PROMPT)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"


@pytest.mark.parametrize(("change", "field"), [
    ({"top_k": 5}, "top_k"),
    ({"model": "gpt-4"}, "model"),
    ({"max_tokens": 8193}, "max_tokens"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"temperature": 1.5}, "temperature"),
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "system", "content": "x"}]}, "messages"),
    ({"messages": [{"role": "user", "content": 5}]}, "messages"),
    ({"messages": [{"role": "user", "content": "x", "cache_control": {}}]}, "messages"),
])
def test_requests_outside_the_documented_subset_are_refused(upstream, ai, funded, change, field):
    response = post(ai, {**PROMPT, **change})

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]["fields"]
    assert upstream.requests == []
    assert balance(funded) == START_BALANCE


def test_an_unknown_model_names_the_allowed_ones(upstream, ai):
    fields = post(ai, {**PROMPT, "model": "claude-2"}).json()["error"]["details"]["fields"]

    assert "claude-sonnet-4-6" in fields["model"][0]


def test_over_the_plans_concurrent_requests_answers_429_with_retry_after(upstream, ai, funded):
    # The Free plan allows one AI request at a time.
    held = ai_slot_acquire(tenant=funded, request_id=uuid.uuid4())
    try:
        refused = post(ai, PROMPT)
    finally:
        held.release()
    allowed = post(ai, PROMPT)

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused["Retry-After"] == "1"
    assert allowed.status_code == 200
    assert len(upstream.requests) == 1


def test_every_slot_is_given_back_after_success_failure_and_streams(upstream, ai, funded):
    post(ai, PROMPT)
    upstream.answer_error(529, kind="overloaded_error")
    post(ai, PROMPT)
    upstream.answer_sse("basic_response")
    sse_events(post(ai, {**PROMPT, "stream": True}))
    server_closes(post(ai, {**PROMPT, "stream": True}))

    assert redis_connection().zcard(ai_services.slot_key(funded)) == 0
    assert set(AiReservationRecord.objects.filter(tenant=funded).values_list("outcome", flat=True)) == {
        "settled", "released"}


def test_with_redis_unreachable_the_ai_api_fails_closed(upstream, ai, funded, monkeypatch):
    def unreachable():
        raise ConnectionError("redis down")
    monkeypatch.setattr(ai_services, "redis_connection", unreachable)

    response = post(ai, PROMPT)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "ai_unavailable"
    assert upstream.requests == []
    assert balance(funded) == START_BALANCE


# --- Code generation ----------------------------------------------------------------------------------------

ANSWER = ("Here is the function.\n\n```python\ndef add(a, b):\n    return a + b\n```\n\n"
          "It returns the sum of its two arguments.")


def test_code_is_generated_parsed_and_metered(upstream, ai, funded):
    upstream.answer_json(text=ANSWER, input_tokens=40, output_tokens=30)

    response = post(ai, {"description": "Add two numbers", "language": "python", "framework": "none"},
                     path="/api/v1/ai/code")

    assert response.status_code == 200
    body = response.json()
    assert body["code"] == "def add(a, b):\n    return a + b"
    assert body["language"] == "python"
    assert body["explanation"] == "Here is the function.\n\nIt returns the sum of its two arguments."
    assert (body["model"], body["usage"]["total_tokens"], body["cost"]["amount"]) == (
        "claude-sonnet-4-6", 70, "0.000570")
    sent = upstream.requests[0]
    assert sent["model"] == "claude-sonnet-4-6" and "fenced code block" in sent["system"]
    assert sent["messages"][0]["content"] == "Language: python\nFramework: none\n\nTask:\nAdd two numbers"
    assert balance(funded) == START_BALANCE - 70


def test_code_without_a_language_takes_the_fences(upstream, ai):
    upstream.answer_json(text="```ts\nconst x = 1;\n```")

    body = post(ai, {"description": "A constant", "model": MODEL}, path="/api/v1/ai/code").json()

    assert (body["code"], body["language"], body["explanation"], body["model"]) == ("const x = 1;", "ts", "", MODEL)


def test_code_rejects_unknown_fields(upstream, ai):
    response = post(ai, {"description": "x", "stream": True}, path="/api/v1/ai/code")

    assert response.status_code == 400
    assert "stream" in response.json()["error"]["details"]["fields"]
