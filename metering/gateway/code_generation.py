"""Code generation on the metered AI API (`POST /api/v1/ai/code`): the prompt, the model used when the caller
names none, and reading the code out of the answer. The call itself is a message like any other, reserved,
paid and settled by metering.gateway.services."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings

from metering.gateway.client import AiUnavailable
from metering.gateway.services import (
    AiCompletion,
    AiRequest,
    ai_message_complete,
    model_names_active,
    model_price_active_get,
)
from metering.models import ModelPrice
from tenants.models import Tenant

FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)```", re.DOTALL)
CODE_SYSTEM = (
    "You are a senior software engineer. Answer with exactly one fenced code block holding the complete, "
    "working code, then a short explanation of how it works and how to use it. No other code blocks."
)


@dataclass(frozen=True)
class AiCode:
    code: str
    language: str
    explanation: str
    price: ModelPrice
    completion: AiCompletion


def ai_code_generate(*, tenant: Tenant, description: str, language: str = "", framework: str = "",
                     price: ModelPrice | None = None, max_tokens: int, created_by: str) -> AiCode:
    """Ask the model (`price`'s, or the default code model) for code and split its answer into the code and
    the explanation. The language is the caller's when given, else the answer fence's tag. Paid from the
    wallet by `ai_message_complete`, which raises the gateway's AiError subclasses (and the wallet's) as is."""
    price = price or code_model_default()
    completion = ai_message_complete(request=AiRequest(
        tenant=tenant, price=price, system=CODE_SYSTEM, max_tokens=max_tokens,
        messages=[{"role": "user", "content": code_prompt(description=description, language=language,
                                                          framework=framework)}],
        created_by=created_by,
    ))
    code, fence_language, explanation = code_parse(completion.message.text)
    return AiCode(code=code, language=language or fence_language, explanation=explanation, price=price,
                  completion=completion)


def code_prompt(*, description: str, language: str, framework: str) -> str:
    lines = [f"Language: {language}" if language else "", f"Framework: {framework}" if framework else ""]
    return "\n".join([line for line in lines if line] + ["", "Task:", description]).strip()


def code_parse(text: str) -> tuple[str, str, str]:
    """(code, the fence's language tag, explanation) from an answer: the first fenced block is the code and
    the text around it the explanation. Without a fence there is no code, only explanation."""
    match = FENCE.search(text)
    if match is None:
        return "", "", text.strip()
    explanation = (text[:match.start()].strip() + "\n\n" + text[match.end():].strip()).strip()
    return match.group(2).rstrip("\n"), match.group(1), explanation


def code_model_default() -> ModelPrice:
    """The operator's code model (AI_CODE_MODEL) while it is active, else the first active model by name."""
    price = model_price_active_get(model=settings.AI_CODE_MODEL)
    if price is None:
        names = model_names_active()
        price = model_price_active_get(model=names[0]) if names else None
    if price is None:
        raise AiUnavailable("No AI model is enabled on this server.")
    return price
