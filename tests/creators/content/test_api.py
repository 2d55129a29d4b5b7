"""POST/GET/PATCH /api/v1/content: generation through the metered gateway (the fake upstream), the library,
edits with versions."""

import pytest

from metering.models import UsageEvent, Wallet, WalletEntry
from tests.creators.content.conftest import MARKETING, documents_of, post_json
from tests.support.anthropic import START_BALANCE

pytestmark = pytest.mark.django_db


def test_a_generated_draft_is_saved_with_the_gateways_usage_and_cost(upstream, content_api, funded):
    upstream.answer_json(text="# Bake with us\n\nJoin the club.", input_tokens=120, output_tokens=30)

    response = post_json(content_api, "/api/v1/content", MARKETING)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["title"] == "Bake with us"
    assert body["template"] == {"key": "marketing-copy", "version": 1, "name": "Marketing copy"}
    # Sonnet 4.6: 120 x $3/MTok + 30 x $15/MTok = $0.000810
    assert (body["usage"], body["cost"]) == ({"input_tokens": 120, "output_tokens": 30},
                                             {"amount": "0.000810", "currency": "USD"})
    assert body["output"] == "# Bake with us\n\nJoin the club."
    assert Wallet.objects.get(tenant=funded).balance == START_BALANCE - 150
    events = {event.meter_code: event.properties["tokens"] for event in UsageEvent.objects.filter(tenant=funded)}
    assert events == {"ai_input_tokens": 120, "ai_output_tokens": 30}
    (document,) = documents_of(funded)
    assert (document.input_tokens, document.output_tokens, str(document.cost)) == (120, 30, "0.000810")


def test_generation_is_charged_to_the_content_feature(upstream, content_api, funded):
    upstream.answer_json(text="Draft", input_tokens=10, output_tokens=5)

    post_json(content_api, "/api/v1/content", MARKETING)

    features = set(WalletEntry.objects.filter(wallet__tenant=funded).exclude(kind="purchase")
                   .values_list("feature", flat=True))
    assert features == {"content"}


def test_the_prompt_is_the_template_filled_with_the_inputs(upstream, content_api, funded):
    upstream.answer_json(text="Draft")

    post_json(content_api, "/api/v1/content", MARKETING)

    (request,) = upstream.requests
    assert request["model"] == "claude-sonnet-4-6"
    assert request["max_tokens"] == 3000
    prompt = request["messages"][0]["content"]
    assert prompt.startswith("Piece: Email\nTopic: A paid community for home bakers\nAudience: Weekend bakers\n"
                             "Tone: Friendly\n")
    assert "Key points to include:\n(not given)" in prompt
