"""Generation through the metered gateway (the fake upstream): validation before any call, the wallet's 402,
streams (saved once, partial ones too), no key."""

import pytest
from django.test import override_settings

from metering.models import AiReservationRecord, Wallet, WalletEntry
from metering.wallets.services import wallet_debit
from tests.creators.content.conftest import MARKETING, documents_of, post_json, server_closes, sse_events
from tests.support.anthropic import START_BALANCE

pytestmark = pytest.mark.django_db


def test_invalid_inputs_are_refused_before_anything_is_reserved(upstream, content_api, funded):
    response = post_json(content_api, "/api/v1/content", {
        "template": "marketing-copy", "inputs": {"topic": "x" * 301, "content_type": "poem", "colour": "red"}})

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"fields": {"inputs": {
        "topic": ["At most 300 characters (this has 301)."], "content_type": ["Choose one of: blog_post, "
                                                                              "social_post, email, ad, landing_page."],
        "tone": ["This field is required."], "audience": ["This field is required."], "colour": ["Unknown field."]}}}
    assert upstream.requests == []
    assert not AiReservationRecord.objects.filter(tenant=funded).exists()


def test_an_unknown_template_is_404(upstream, content_api):
    response = post_json(content_api, "/api/v1/content", {"template": "sonnets", "inputs": {}})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_empty_wallet_is_refused_with_402_and_nothing_is_called_or_saved(upstream, content_api, funded):
    wallet_debit(tenant=funded, tokens=START_BALANCE - 10, feature="ai_api", reason="spent", idempotency_key="spent")

    response = post_json(content_api, "/api/v1/content", MARKETING)

    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_balance"
    assert upstream.requests == []
    assert documents_of(funded) == []
    assert Wallet.objects.get(tenant=funded).balance == 10


@override_settings(ANTHROPIC_API_KEY="")
def test_without_an_anthropic_key_generation_answers_503_plainly(content_api):
    response = post_json(content_api, "/api/v1/content", MARKETING)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "ai_unavailable"
    assert "ANTHROPIC_API_KEY" in response.json()["error"]["message"]


def test_a_stream_forwards_the_draft_then_names_the_saved_document(upstream, content_api, funded):
    upstream.answer_sse("basic_response")

    response = post_json(content_api, "/api/v1/content", {**MARKETING, "stream": True})

    assert response["Content-Type"] == "text/event-stream"
    events = sse_events(response)
    assert [name for name, _ in events][-2:] == ["tollgate.usage", "tollgate.content"]
    (document,) = documents_of(funded)
    assert events[-1][1] == {"type": "tollgate.content",
                             "document": {"id": document.pk, "title": "Marketing copy: A paid community for home "
                                                                      "bakers", "word_count": 2}}
    assert document.output == "Hello there!"
    usage = events[-2][1]["usage"]
    assert (document.input_tokens, document.output_tokens) == (usage["input_tokens"], usage["output_tokens"]) \
        == (11, 6)
    assert format(document.cost, "f") == events[-2][1]["cost"]["amount"]
    assert Wallet.objects.get(tenant=funded).balance == START_BALANCE - 17


def test_a_client_that_leaves_mid_stream_pays_for_and_keeps_what_was_sent(upstream, content_api, funded):
    upstream.answer_sse("basic_response")
    response = post_json(content_api, "/api/v1/content", {**MARKETING, "stream": True})
    frames = iter(response.streaming_content)
    received = b""
    while b"Hello" not in received:
        received += next(frames)

    server_closes(response)

    (document,) = documents_of(funded)
    assert document.output == "Hello"
    charged = Wallet.objects.get(tenant=funded).balance
    assert START_BALANCE - charged == document.input_tokens + document.output_tokens > 0
    record = AiReservationRecord.objects.get(tenant=funded)
    assert record.settled_at is not None


def test_a_stream_that_writes_nothing_saves_nothing(upstream, content_api, funded):
    upstream.answer_sse_cut("basic_response", after="content_block_start", broken=True)

    events = sse_events(post_json(content_api, "/api/v1/content", {**MARKETING, "stream": True}))

    assert "error" in [name for name, _ in events]
    assert "tollgate.content" not in [name for name, _ in events]
    assert documents_of(funded) == []
    assert WalletEntry.objects.filter(wallet__tenant=funded, feature="content").exists()


def test_an_inactive_content_model_falls_back_to_an_active_one(upstream, content_api, funded, settings):
    from metering.models import ModelPrice

    settings.AI_CONTENT_MODEL = "claude-retired-1"
    upstream.answer_json(text="Draft")

    post_json(content_api, "/api/v1/content", MARKETING)

    assert upstream.requests[0]["model"] == ModelPrice.objects.filter(active=True).order_by("model").first().model
