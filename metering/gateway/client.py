"""The one boundary to Anthropic: builds the SDK client, sends Messages requests (whole or streamed), turns the
SDK's answers into plain data (AiMessage, AiUsage) and its failures into our domain errors. Nothing else in
Tollgate imports `anthropic`.

Settings: ANTHROPIC_API_KEY (empty = AI off), and optionally ANTHROPIC_BASE_URL (a proxy or a fake upstream),
ANTHROPIC_TIMEOUT_S (default 120; for a stream, the longest wait between two events), ANTHROPIC_MAX_RETRIES
(default 0: the gateway answers an overloaded or rate-limited upstream at once, with Retry-After, and the
caller decides) and ANTHROPIC_OPEN_TELEMETRY (the SDK's spans; default off).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import anthropic
import httpx2
from django.conf import settings

from config.errors import DomainError

logger = logging.getLogger(__name__)


# --- Domain errors (config/api/errors.py maps them, Retry-After included) --------------------------------

class AiError(DomainError):
    code = "ai_error"
    status = 502

    def __init__(self, message: str, *, retry_after_s: int | None = None):
        super().__init__(message, retry_after_s=retry_after_s)
        # The AI API tells when to retry in the body as well as in Retry-After.
        if self.retry_after_s is not None:
            self.details = {"retry_after_s": self.retry_after_s}


class AiUnavailable(AiError):
    code = "ai_unavailable"
    status = 503


class UpstreamOverloaded(AiError):
    code = "upstream_overloaded"
    status = 503
    retry_after_s = 10


class UpstreamRateLimited(AiError):
    code = "upstream_rate_limited"
    status = 429
    retry_after_s = 10


class UpstreamInvalidRequest(AiError):
    code = "upstream_invalid_request"
    status = 400


class UpstreamTimeout(AiError):
    code = "upstream_timeout"
    status = 504


class UpstreamUnreachable(AiError):
    code = "upstream_unreachable"
    status = 502


class UpstreamFailed(AiError):
    code = "upstream_error"
    status = 502


# --- Plain data out of the SDK ----------------------------------------------------------------------------

@dataclass(frozen=True)
class AiUsage:
    """Tokens of one request as Anthropic counts them: `input_tokens` excludes the cached part, which comes
    as cache writes and cache reads."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0

    @property
    def total_input_tokens(self) -> int:
        return self.input_tokens + self.cache_write_tokens + self.cache_read_tokens

    @property
    def total_tokens(self) -> int:
        return self.total_input_tokens + self.output_tokens

    def as_dict(self) -> dict[str, int]:
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "cache_creation_input_tokens": self.cache_write_tokens,
                "cache_read_input_tokens": self.cache_read_tokens, "total_tokens": self.total_tokens}


@dataclass(frozen=True)
class AiMessage:
    id: str
    model: str
    text_blocks: list[str]
    stop_reason: str | None
    usage: AiUsage

    @property
    def text(self) -> str:
        return "".join(self.text_blocks)


def ai_configured() -> bool:
    return bool(settings.ANTHROPIC_API_KEY)


def ai_configured_check() -> None:
    if not ai_configured():
        raise AiUnavailable("The AI API is not configured on this server (no Anthropic API key). "
                            "Ask the operator to set ANTHROPIC_API_KEY.")


def http_client_build() -> Any:
    """The HTTP client the SDK sends through (an `httpx2.Client`); None lets the SDK build its own. Tests
    replace this function to answer from recorded fixtures (then call client_cache_clear)."""
    return None


def anthropic_client() -> anthropic.Anthropic:
    """One SDK client per process and configuration, so its connection pool is reused across requests."""
    ai_configured_check()
    return _client(settings.ANTHROPIC_API_KEY, settings.ANTHROPIC_BASE_URL, settings.ANTHROPIC_TIMEOUT_S,
                   settings.ANTHROPIC_MAX_RETRIES, settings.ANTHROPIC_OPEN_TELEMETRY)


@lru_cache(maxsize=4)
def _client(api_key: str, base_url: str | None, timeout_s: float, max_retries: int,
            open_telemetry: bool) -> anthropic.Anthropic:
    # None leaves the SDK's own ANTHROPIC_OPEN_TELEMETRY* environment variables in charge.
    return anthropic.Anthropic(api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=max_retries,
                               http_client=http_client_build(), open_telemetry=None if open_telemetry else False)


def client_cache_clear() -> None:
    _client.cache_clear()


def message_create(*, params: dict[str, Any]) -> AiMessage:
    """Send one Messages request and wait for the whole answer."""
    try:
        message = anthropic_client().messages.create(**params)
    except anthropic.APIError as error:
        raise upstream_error(error) from error
    except ValueError as error:  # a body that is not a message (truncated JSON, wrong shape) from upstream
        logger.warning("ai_upstream_unreadable error=%s", type(error).__name__)
        raise UpstreamFailed("Anthropic's answer could not be read. Retry shortly.") from error
    # The SDK builds responses without validating them: an answer without usage or content cannot be metered.
    if message.usage is None or not isinstance(message.content, list):
        logger.warning("ai_upstream_unreadable error=incomplete_message")
        raise UpstreamFailed("Anthropic's answer could not be read. Retry shortly.")
    return AiMessage(
        id=message.id, model=message.model,
        text_blocks=[block.text for block in message.content if block.type == "text"],
        stop_reason=message.stop_reason, usage=_usage_from(message.usage),
    )


def message_stream_open(*, params: dict[str, Any]) -> MessageStream:
    """Send a streamed Messages request. Returns once Anthropic has answered with its headers, so a refusal
    (429, 529, 400...) raises here, before the caller has sent anything to its client."""
    try:
        raw = anthropic_client().messages.create(**params, stream=True)
    except anthropic.APIError as error:
        raise upstream_error(error) from error
    return MessageStream(raw)


@dataclass
class MessageStream:
    """Anthropic's events as server-sent-event frames, in the order they arrive, with the usage seen so far.

    Usage on a stream is cumulative: message_start carries the input side (it may carry none at all), each
    message_delta the totals so far, so the last value of each count is the final one. Until message_delta has
    come (`usage_final`), the output count is only message_start's placeholder (1 token), so the stream also
    counts what it forwarded: `output_bytes`, the UTF-8 bytes of every content_block_delta's text (text,
    tool-input JSON, thinking), counted before the frame is handed on."""

    raw: Any
    message_id: str = ""
    model: str = ""
    stop_reason: str | None = None
    started: bool = False
    usage_final: bool = False
    output_bytes: int = 0
    _usage: dict[str, int] = field(default_factory=dict)

    @property
    def usage(self) -> AiUsage:
        return AiUsage(input_tokens=self._usage.get("input_tokens", 0),
                       output_tokens=self._usage.get("output_tokens", 0),
                       cache_write_tokens=self._usage.get("cache_creation_input_tokens", 0),
                       cache_read_tokens=self._usage.get("cache_read_input_tokens", 0))

    @property
    def input_reported(self) -> bool:
        """Whether Anthropic has told the input side yet (message_start may not)."""
        return "input_tokens" in self._usage

    def frames(self) -> Iterator[bytes]:
        try:
            for event in self.raw:
                self._observe(event)
                yield f"event: {event.type}\ndata: {event.to_json(indent=None)}\n\n".encode()
        except anthropic.APIError as error:
            raise upstream_error(error) from error
        except httpx2.TimeoutException as error:
            # The SDK wraps transport failures of the request, not of the body read afterwards.
            raise UpstreamTimeout("Anthropic stopped sending mid-answer.") from error
        except httpx2.HTTPError as error:
            logger.warning("ai_upstream_stream_broken error=%s", type(error).__name__)
            raise UpstreamUnreachable("The connection to Anthropic broke mid-answer.") from error

    def close(self) -> None:
        self.raw.close()

    def _observe(self, event: Any) -> None:
        if event.type == "content_block_delta":
            self.output_bytes += len(_delta_text(event.delta).encode())
        elif event.type == "message_start":
            self.started = True
            self.message_id, self.model = event.message.id, event.message.model
            self._usage_merge(getattr(event.message, "usage", None))
        elif event.type == "message_delta":
            self.stop_reason = event.delta.stop_reason
            self.usage_final = True
            self._usage_merge(event.usage)

    def _usage_merge(self, usage: Any) -> None:
        if usage is None:
            return
        for name in ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
            value = getattr(usage, name, None)
            if value is not None:
                self._usage[name] = int(value)


def _delta_text(delta: Any) -> str:
    """The generated text a content_block_delta carries, whatever its kind (a signature or citation carries
    none the model generated as output text)."""
    for name in ("text", "partial_json", "thinking"):
        value = getattr(delta, name, None)
        if isinstance(value, str):
            return value
    return ""


def _usage_from(usage: Any) -> AiUsage:
    return AiUsage(input_tokens=usage.input_tokens or 0, output_tokens=usage.output_tokens or 0,
                   cache_write_tokens=usage.cache_creation_input_tokens or 0,
                   cache_read_tokens=usage.cache_read_input_tokens or 0)


def upstream_error(error: anthropic.APIError) -> AiError:
    """Anthropic's failure as one of ours, with a message for the caller (never the upstream's raw body)."""
    if isinstance(error, anthropic.APITimeoutError):
        return UpstreamTimeout("Anthropic did not answer in time. Retry, perhaps with a smaller max_tokens.")
    if isinstance(error, anthropic.APIConnectionError):
        logger.warning("ai_upstream_unreachable error=%s", type(error).__name__)
        return UpstreamUnreachable("Anthropic could not be reached. Retry shortly.")
    status = getattr(error, "status_code", None)
    retry_after = _retry_after(error)
    if status == 429:
        return UpstreamRateLimited("Anthropic is rate limiting this server's requests. Retry after the time in "
                                   "Retry-After.", retry_after_s=retry_after)
    if status in (529, 503) or isinstance(error, anthropic.OverloadedError):
        return UpstreamOverloaded("Anthropic is overloaded right now. Retry shortly.", retry_after_s=retry_after)
    if status in (400, 404, 413, 422):
        detail = _upstream_message(error)
        return UpstreamInvalidRequest(f"Anthropic refused the request: {detail}" if detail
                                      else "Anthropic refused the request as invalid.")
    if status in (401, 403):
        logger.error("ai_upstream_key_refused status=%s", status)
        return AiUnavailable("The AI API is misconfigured on this server (its Anthropic key was refused).")
    logger.warning("ai_upstream_failed status=%s error=%s", status, type(error).__name__)
    return UpstreamFailed("Anthropic failed to answer. Retry shortly.")


def _retry_after(error: anthropic.APIError) -> int | None:
    response = getattr(error, "response", None)
    raw = response.headers.get("retry-after") if response is not None else None
    try:
        return max(1, int(float(raw))) if raw else None
    except ValueError:
        return None


def _upstream_message(error: anthropic.APIError) -> str:
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"][:500]
    return ""
