"""Anthropic's side of the wire for AI gateway tests: recorded streams answered through an httpx2 MockTransport
that the real SDK talks to (the `upstream`, `funded` and `ai` fixtures in tests/conftest.py use it)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "anthropic"
MODEL = "claude-haiku-4-5"
START_BALANCE = 100_000
PROMPT = {"model": MODEL, "max_tokens": 100, "messages": [{"role": "user", "content": "Say hello, please."}]}
# "Say hello, please." is 18 bytes: with the framing (16 per request, 8 per message) an input estimate of 42
# tokens, so 142 are reserved.
RESERVED = 142


class FakeAnthropic:
    """Anthropic's side of the wire: records what the SDK sent and answers with what the test set."""

    def __init__(self):
        self.requests: list[dict] = []
        self.respond: Callable[[httpx2.Request], httpx2.Response] = lambda request: message_response()

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(json.loads(request.content))
        return self.respond(request)

    def answer_sse(self, name: str) -> None:
        body = sse_fixture(name)
        self.respond = lambda request: httpx2.Response(200, headers={"content-type": "text/event-stream"},
                                                       content=body)

    def answer_sse_cut(self, name: str, *, after: str, broken: bool) -> None:
        """The recording up to and including the last event of type `after`, then the end of the body (an
        upstream that stopped) or a broken connection."""
        events = sse_fixture(name).split(b"\n\n")
        last = max(index for index, event in enumerate(events) if event.startswith(f"event: {after}\n".encode()))
        body = b"".join(event + b"\n\n" for event in events[:last + 1])

        def chunks() -> Iterator[bytes]:
            yield body
            if broken:
                raise httpx2.ReadError("connection reset by peer")
        self.respond = lambda request: httpx2.Response(200, headers={"content-type": "text/event-stream"},
                                                       content=chunks())

    def answer_json(self, **fields) -> None:
        self.respond = lambda request: message_response(**fields)

    def answer_error(self, status: int, *, kind: str, message: str = "no", headers: dict | None = None) -> None:
        body = {"type": "error", "error": {"type": kind, "message": message}}
        self.respond = lambda request: httpx2.Response(status, json=body, headers=headers or {})

    def answer_timeout(self) -> None:
        def respond(request):
            raise httpx2.ReadTimeout("timed out", request=request)
        self.respond = respond


def sse_fixture(name: str) -> bytes:
    # Every event ends with a blank line, the last one too (one recording lacks it; Anthropic sends it).
    return (FIXTURES / f"{name}.sse").read_bytes().rstrip(b"\n") + b"\n\n"


def message_response(*, text: str = "Hello there!", input_tokens: int = 10, output_tokens: int = 5,
                     cache_write: int | None = None, cache_read: int | None = None,
                     stop_reason: str = "end_turn") -> httpx2.Response:
    return httpx2.Response(200, json={
        "id": "msg_01TestNonStreaming", "type": "message", "role": "assistant", "model": MODEL,
        "content": [{"type": "text", "text": text}], "stop_reason": stop_reason, "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens,
                  "cache_creation_input_tokens": cache_write, "cache_read_input_tokens": cache_read},
    })


def post(client, body, path="/api/v1/ai/messages"):
    return client.post(path, json.dumps(body), content_type="application/json")
