"""Content generation in a real browser against the fake upstream: alpha's owner opens Content, sends a template's
form with errors (shown under the fields without leaving the page), fixes it, watches the draft stream in
(static/js/content-stream.js), opens the saved document, edits it (the AI's text kept as version 1) and finds it
in the library by search. Screenshots of each step in test-artifacts/.

Alpha's wallet, usage and drafts are committed by the live server and removed by the `content_live` fixture,
which is set up before chromium starts and torn down after it stops (no ORM calls in the test body: see
test_signup_to_api_key.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx2
import pytest
from django_tenants.utils import schema_context

from creators.models import ContentDocument
from metering.gateway import client as ai_client
from tests.support.tenants import STANDARD_PASSWORD, STANDARD_TENANTS

pytestmark = pytest.mark.e2e

DRAFT = ["# Bake with us", "\n\nThe Sourdough Circle ", "opens on Monday: ", "a live bake-along ",
         "every Saturday.\n\n", "[Join the waitlist]."]


def draft_stream() -> bytes:
    """Anthropic's documented event sequence for a streamed text answer, in several deltas."""
    events = [("message_start", {"type": "message_start", "message": {
        "id": "msg_e2e_content", "type": "message", "role": "assistant", "content": [], "model": "claude-sonnet-4-6",
        "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 180, "output_tokens": 1}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}})]
    events += [("content_block_delta", {"type": "content_block_delta", "index": 0,
                                        "delta": {"type": "text_delta", "text": text}}) for text in DRAFT]
    events += [("content_block_stop", {"type": "content_block_stop", "index": 0}),
               ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn",
                                                                     "stop_sequence": None},
                                  "usage": {"output_tokens": 24}}),
               ("message_stop", {"type": "message_stop"})]
    return b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events)


@pytest.fixture
def content_live(committed_live_server, settings, monkeypatch) -> Iterator[None]:
    from metering.wallets.services import wallet_credit
    from tenants.models import Tenant
    from tests.support.tenants import tenant_metering_purge

    alpha = Tenant.objects.get(slug="alpha")
    wallet_credit(tenant=alpha, tokens=100_000, kind="purchase", reason="e2e", idempotency_key="e2e-content")
    monkeypatch.setattr(ai_client, "http_client_build", lambda: httpx2.Client(transport=httpx2.MockTransport(
        lambda request: httpx2.Response(200, headers={"content-type": "text/event-stream"},
                                        content=draft_stream()))))
    ai_client.client_cache_clear()
    settings.ANTHROPIC_API_KEY = "sk-ant-e2e"
    try:
        yield
    finally:
        ai_client.client_cache_clear()
        with schema_context(alpha.schema_name):
            ContentDocument.objects.all().delete()
        tenant_metering_purge(alpha)


def test_a_draft_streams_in_is_saved_edited_and_found(content_live, committed_live_server, browser_context_factory,
                                                      artifacts_dir):
    live = committed_live_server
    page = browser_context_factory().new_page()
    page.goto(live.url_for("alpha", "/accounts/login/"))
    page.fill('input[name="login"]', STANDARD_TENANTS["alpha"]["owner"])
    page.fill('input[name="password"]', STANDARD_PASSWORD)
    page.locator('input[name="password"]').press("Enter")
    page.wait_for_url(live.url_for("alpha", "/"))

    # --- The library and a template's form, sent with errors ----------------------------------------------------
    page.get_by_role("link", name="Content", exact=True).click()
    page.wait_for_url(live.url_for("alpha", "/content/"))
    page.screenshot(path=artifacts_dir / "e2e-content-library-empty.png", full_page=True)
    page.locator('[data-template="marketing-copy"]').click()
    page.fill('input[name="topic"]', "The Sourdough Circle launch")
    page.get_by_role("button", name="Write the draft").click()
    page.wait_for_selector(".field-has-error")
    assert page.locator(".field-has-error").count() == 3  # type, tone, audience
    page.screenshot(path=artifacts_dir / "e2e-content-form-errors.png", full_page=True)

    # --- Fixed: the draft streams in and is saved ---------------------------------------------------------------
    page.select_option('select[name="content_type"]', "email")
    page.select_option('select[name="tone"]', "friendly")
    page.fill('input[name="audience"]', "Weekend bakers")
    page.get_by_role("button", name="Write the draft").click()
    page.wait_for_selector("[data-draft-link]", state="visible")
    assert page.locator("[data-draft-text]").inner_text() == "".join(DRAFT)
    assert page.locator("[data-draft-words]").inner_text() == "18"
    assert page.locator("[data-draft-status]").text_content() == "saved to your library"
    assert page.locator(".field-has-error").count() == 0
    assert not page.locator("[data-draft-error]").is_visible()
    page.screenshot(path=artifacts_dir / "e2e-content-streamed.png", full_page=True)

    # --- The document: preview, scores, cost; an edit keeps the AI's text as version 1 ---------------------------
    page.locator("[data-draft-link]").click()
    page.wait_for_selector("#document-title")
    assert page.locator("#document-title").inner_text() == "Bake with us"
    assert page.locator("#document-words").inner_text() == "18"
    # Sonnet 4.6: 180 x $3/MTok + 24 x $15/MTok = $0.000900
    assert "0.000900 USD" in page.content()
    page.fill('textarea[name="output"]', "# Bake with us\n\nThe Sourdough Circle opens on Monday.")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("#document-versions")
    assert "Version 1 (as the AI wrote it)" in page.locator("#document-versions").inner_text()
    assert page.locator("#document-words").inner_text() == "9"
    page.screenshot(path=artifacts_dir / "e2e-content-edited.png", full_page=True)

    # --- Found by search in the library --------------------------------------------------------------------------
    page.goto(live.url_for("alpha", "/content/?q=sourdough"))
    assert page.locator("#content-documents").get_by_role("link", name="Bake with us").count() == 1
    page.screenshot(path=artifacts_dir / "e2e-content-library.png", full_page=True)
