"""Code generation: the prompt, the default model, the parsing of the answer, and one whole call through the real
Anthropic SDK answered over an httpx2 MockTransport."""

from __future__ import annotations

import json

import httpx2
import pytest
from django.test import override_settings

from metering.gateway import client as ai_client
from metering.gateway.client import AiUnavailable
from metering.gateway.code_generation import CODE_SYSTEM, ai_code_generate, code_model_default, code_parse, code_prompt
from metering.models import ModelPrice, Wallet
from metering.wallets.services import wallet_credit

pytestmark = pytest.mark.django_db

ANSWER = ("Here is the function.\n\n```python\ndef add(a, b):\n    return a + b\n```\n\n"
          "It returns the sum of its two arguments.")


def test_the_prompt_names_the_language_and_framework_given():
    assert code_prompt(description="Add two numbers", language="python", framework="none") == (
        "Language: python\nFramework: none\n\nTask:\nAdd two numbers")


def test_the_prompt_without_a_language_or_framework_is_the_task_alone():
    assert code_prompt(description="Add two numbers", language="", framework="") == "Task:\nAdd two numbers"


def test_the_first_fenced_block_is_the_code_and_the_text_around_it_the_explanation():
    assert code_parse(ANSWER) == ("def add(a, b):\n    return a + b", "python",
                                  "Here is the function.\n\nIt returns the sum of its two arguments.")


def test_an_answer_without_a_fence_is_all_explanation():
    assert code_parse("  I cannot write that.\n") == ("", "", "I cannot write that.")


def test_a_later_fenced_block_stays_in_the_explanation():
    code, _, explanation = code_parse("```js\na()\n```\nthen\n```js\nb()\n```")

    assert code == "a()" and "b()" in explanation


def test_the_default_code_model_is_the_configured_one():
    with override_settings(AI_CODE_MODEL="claude-haiku-4-5"):
        assert code_model_default().model == "claude-haiku-4-5"


def test_an_inactive_code_model_falls_back_to_the_first_active_model():
    with override_settings(AI_CODE_MODEL="claude-retired-1"):
        assert code_model_default().model == sorted(ModelPrice.objects.filter(active=True)
                                                    .values_list("model", flat=True))[0]


def test_without_an_active_model_code_generation_is_unavailable():
    ModelPrice.objects.update(active=False)

    with pytest.raises(AiUnavailable):
        code_model_default()


@pytest.fixture
def sent(monkeypatch) -> list[dict]:
    """What the SDK sends to Anthropic; each call is answered with ANSWER, 40 input and 30 output tokens."""
    requests: list[dict] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        requests.append(json.loads(request.content))
        body = json.loads(request.content)
        return httpx2.Response(200, json={
            "id": "msg_01TestCode", "type": "message", "role": "assistant", "model": body["model"],
            "content": [{"type": "text", "text": ANSWER}], "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 40, "output_tokens": 30},
        })

    monkeypatch.setattr(ai_client, "http_client_build",
                        lambda: httpx2.Client(transport=httpx2.MockTransport(handler)))
    ai_client.client_cache_clear()
    with override_settings(ANTHROPIC_API_KEY="sk-ant-test-key"):
        yield requests
    ai_client.client_cache_clear()


def test_code_generation_sends_the_code_prompt_and_pays_from_the_wallet(tenant_alpha, sent):
    wallet_credit(tenant=tenant_alpha, tokens=1000, kind="purchase", reason="Purchase", idempotency_key="bought")

    result = ai_code_generate(tenant=tenant_alpha, description="Add two numbers", max_tokens=100,
                              created_by="owner@alpha.test")

    assert (result.code, result.language, result.price.model) == (
        "def add(a, b):\n    return a + b", "python", "claude-sonnet-4-6")
    assert sent[0]["system"] == CODE_SYSTEM
    assert sent[0]["messages"] == [{"role": "user", "content": "Task:\nAdd two numbers"}]
    assert result.completion.settlement.usage.as_dict()["total_tokens"] == 70
    assert Wallet.objects.get(tenant=tenant_alpha).balance == 1000 - 70


def test_the_callers_language_wins_over_the_fences(tenant_alpha, sent):
    wallet_credit(tenant=tenant_alpha, tokens=1000, kind="purchase", reason="Purchase", idempotency_key="bought")

    result = ai_code_generate(tenant=tenant_alpha, description="Add", language="python3", max_tokens=100,
                              created_by="owner@alpha.test")

    assert result.language == "python3"
