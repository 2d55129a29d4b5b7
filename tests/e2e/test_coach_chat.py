"""The coach's chat in a real browser against the fake upstream: alpha's owner sets up a creator profile, starts the
premium community project, tells the coach "I'll launch on Discord at $29/month" (Enter sends; Shift+Enter only
breaks the line), watches the answer stream in (static/js/coach-chat.js), sees the platform and pricing decisions
appear on their cards and in the chat without a reload (the task the coach completed finishes a phase and is
celebrated), ticks a task, reloads and finds everything kept. Without
an AI key, the same message is kept and its decisions recorded, the chat box says why the coach cannot answer, a
card's Undo takes a decision back, the daily limit's refusal is said in the box, and finishing a phase is
celebrated. Screenshots of each step in test-artifacts/.

The upstream answers with tests/fixtures/anthropic/tool_use_response.sse (text, then record_decision,
complete_task and suggest_next_step calls), its text deltas held back a little so the page is seen mid-answer.
Alpha's wallet and usage and the coach rows in its schema are committed by the live server and removed by the
`coach_live` fixture, set up before chromium starts and torn down after it stops (no ORM calls in the test body:
see test_signup_to_api_key.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx2
import pytest
from django_tenants.utils import schema_context

from creators.models import CreatorProfile, Project
from metering.gateway import client as ai_client
from tests.support.anthropic import sse_fixture
from tests.support.tenants import STANDARD_PASSWORD, STANDARD_TENANTS

pytestmark = pytest.mark.e2e

SAYS = "I'll launch on Discord at $29/month"
ANSWER = ("Great choice: $29 a month on Discord suits 50,000 followers. Next, write the promise of your community in "
          "one sentence.")
DELTA_DELAY_S = 0.5
FOUNDATION = ["audience-survey", "define-promise", "choose-platform", "set-pricing", "design-structure",
              "set-launch-date"]


def held_back(body: bytes) -> Iterator[bytes]:
    """The recording event by event, each text delta a moment after the one before (as a model writes)."""
    for event in body.split(b"\n\n"):
        if not event.strip():
            continue
        if b'"type":"text_delta"' in event:
            time.sleep(DELTA_DELAY_S)
        yield event + b"\n\n"


def coach_rows_purge(schema_name: str) -> None:
    with schema_context(schema_name):
        Project.objects.all().delete()  # its messages, decisions and task completions go with it
        CreatorProfile.objects.all().delete()


@pytest.fixture
def alpha_coach(committed_live_server) -> Iterator[None]:
    """Alpha's owner without a creator profile; what the journey commits in alpha's schema, wallet and usage is
    removed afterwards."""
    from tenants.models import Tenant
    from tests.support.tenants import tenant_metering_purge

    alpha = Tenant.objects.get(slug="alpha")
    coach_rows_purge(alpha.schema_name)
    try:
        yield
    finally:
        coach_rows_purge(alpha.schema_name)
        tenant_metering_purge(alpha)


@pytest.fixture
def coach_live(alpha_coach, settings, monkeypatch) -> Iterator[None]:
    from metering.wallets.services import wallet_credit
    from tenants.models import Tenant

    wallet_credit(tenant=Tenant.objects.get(slug="alpha"), tokens=100_000, kind="purchase", reason="e2e",
                  idempotency_key="e2e-coach")
    body = sse_fixture("tool_use_response")
    monkeypatch.setattr(ai_client, "http_client_build", lambda: httpx2.Client(transport=httpx2.MockTransport(
        lambda request: httpx2.Response(200, headers={"content-type": "text/event-stream"},
                                        content=held_back(body)))))
    ai_client.client_cache_clear()
    settings.ANTHROPIC_API_KEY = "sk-ant-e2e"
    try:
        yield
    finally:
        ai_client.client_cache_clear()


def project_started(page, live) -> None:
    """Signed in as alpha's owner, the creator profile set up and the premium community project started."""
    page.goto(live.url_for("alpha", "/accounts/login/"))
    page.fill('input[name="login"]', STANDARD_TENANTS["alpha"]["owner"])
    page.fill('input[name="password"]', STANDARD_PASSWORD)
    page.locator('input[name="password"]').press("Enter")
    page.wait_for_url(live.url_for("alpha", "/"))
    page.get_by_role("link", name="Coach", exact=True).click()
    page.get_by_role("link", name="Set up your creator profile").click()
    page.select_option('select[name="primary_platform"]', "youtube")
    page.fill('input[name="follower_count"]', "50000")
    page.fill('input[name="engagement_rate"]', "4")
    page.fill('input[name="niche"]', "home baking for beginners")
    page.fill('input[name="monthly_revenue_goal"]', "3000")
    page.fill('input[name="hours_per_week"]', "10")
    page.get_by_role("button", name="Save the profile").click()
    page.wait_for_url(live.url_for("alpha", "/coach/"))
    page.get_by_role("button", name="Start the project").click()
    page.wait_for_url(live.url_for("alpha", "/coach/"))


def test_a_stated_price_and_platform_stream_in_become_decisions_and_survive_a_reload(
        coach_live, committed_live_server, browser_context_factory, artifacts_dir):
    live = committed_live_server
    page = browser_context_factory().new_page()
    project_started(page, live)
    log = page.get_by_test_id("coach-messages")
    assert log.locator(".coach-message-assistant").count() == 1  # the playbook's welcome
    assert page.get_by_test_id("coach-ai-off").count() == 0
    assert "50 of 50 messages left today" in page.get_by_test_id("coach-chat").inner_text()
    page.screenshot(path=artifacts_dir / "e2e-coach-chat-start.png", full_page=True)

    # --- Five of Foundation's six tasks ticked: the coach will complete the last one ----------------------------
    for task_id in FOUNDATION:
        if task_id != "choose-platform":
            page.get_by_test_id(f"toggle-{task_id}").click()
            page.wait_for_selector(f'[data-testid="toggle-{task_id}"][aria-checked="true"]')
    assert "5 of 22 tasks" in page.get_by_test_id("coach-board").inner_text()

    # --- Shift+Enter breaks the line, Enter sends -------------------------------------------------------------
    box = page.get_by_label("Message your coach")
    box.fill("I'll launch")
    box.press("Shift+Enter")
    assert box.input_value() == "I'll launch\n"
    assert log.locator(".coach-message-user").count() == 0
    box.fill(SAYS)
    box.press("Enter")

    # --- The coach is typing, then the answer streams in ------------------------------------------------------
    assert page.get_by_test_id("coach-typing").is_visible()  # until the first words, held back by the upstream
    assert log.locator(".coach-message-user").last.locator(".coach-message-text").inner_text() == SAYS
    assert box.input_value() == ""
    page.get_by_test_id("coach-chat").screenshot(path=artifacts_dir / "e2e-coach-chat-typing.png")
    page.wait_for_selector(".coach-message-streaming")
    assert not page.get_by_test_id("coach-typing").is_visible()
    page.get_by_test_id("coach-chat").screenshot(path=artifacts_dir / "e2e-coach-chat-streaming.png")
    page.wait_for_selector('[data-testid="coach-action-pricing"]')
    answer = log.locator(".coach-message-assistant").last
    assert answer.locator(".coach-message-text").inner_text() == ANSWER
    page.wait_for_selector(".coach-message-streaming", state="detached")  # the stream has ended
    assert not page.get_by_test_id("coach-chat-error").is_visible()

    # --- Both decisions on their cards and in the chat, the task the coach completed ticked: no reload ----------
    page.wait_for_selector('[data-testid="decision-current-platform"]')
    assert "Discord" in page.get_by_test_id("decision-current-platform").inner_text()
    assert "29" in page.get_by_test_id("decision-current-pricing").inner_text()
    assert "40% · 2 of 5 decisions" in page.get_by_test_id("coach-board").inner_text()
    cards = log.locator(".coach-actions")
    assert cards.get_by_test_id("coach-action-platform").get_attribute("data-status") == "applied"
    assert cards.get_by_test_id("coach-action-pricing").get_attribute("data-status") == "applied"
    assert "Write your community's promise in one sentence." in cards.get_by_test_id("coach-action-next-step")\
        .first.inner_text()
    assert page.get_by_test_id("toggle-choose-platform").get_attribute("aria-checked") == "true"
    assert "49 of 50 messages left today" in page.get_by_test_id("coach-chat").inner_text()
    # The coach's tick finished Foundation: celebrated like a tick of one's own.
    assert "Phase complete: Foundation" in page.get_by_test_id("phase-complete").inner_text()
    page.screenshot(path=artifacts_dir / "e2e-coach-chat-decided.png")

    # --- Tick a task ------------------------------------------------------------------------------------------
    page.get_by_test_id("toggle-create-space").click()
    page.wait_for_selector('[data-testid="toggle-create-space"][aria-checked="true"]')
    assert "7 of 22 tasks" in page.get_by_test_id("coach-board").inner_text()

    # --- Reload: the conversation, the decisions, the cards and the tasks are kept ------------------------------
    page.reload()
    assert log.locator(".coach-message-user").last.locator(".coach-message-text").inner_text() == SAYS
    assert log.locator(".coach-message-assistant").last.locator(".coach-message-text").inner_text() == ANSWER
    assert "Discord" in page.get_by_test_id("decision-current-platform").inner_text()
    assert "29" in page.get_by_test_id("decision-current-pricing").inner_text()
    assert log.get_by_test_id("coach-action-pricing").get_by_role("button", name="Undo").count() == 1
    for task_id in [*FOUNDATION, "create-space"]:
        assert page.get_by_test_id(f"toggle-{task_id}").get_attribute("aria-checked") == "true", task_id
    assert "7 of 22 tasks" in page.get_by_test_id("coach-board").inner_text()
    page.screenshot(path=artifacts_dir / "e2e-coach-chat-reloaded.png", full_page=True)


def test_without_an_ai_key_what_you_state_is_recorded_and_the_daily_limit_is_said_plainly(
        alpha_coach, committed_live_server, browser_context_factory, artifacts_dir, settings):
    settings.ANTHROPIC_API_KEY = ""
    settings.COACH_MESSAGES_PER_DAY = 1
    live = committed_live_server
    page = browser_context_factory().new_page()
    project_started(page, live)
    assert "The AI partner needs the operator to set an Anthropic key" in page.get_by_test_id("coach-ai-off")\
        .inner_text()

    # --- No answer, but the stated platform and price are recorded and the board shows them --------------------
    box = page.get_by_label("Message your coach")
    box.fill(SAYS)
    box.press("Enter")
    page.wait_for_selector('[data-testid="decision-current-pricing"]')
    log = page.get_by_test_id("coach-messages")
    assert log.locator(".coach-message-user").last.locator(".coach-message-text").inner_text() == SAYS
    assert log.get_by_test_id("coach-action-platform").get_attribute("data-status") == "applied"
    assert "Discord" in page.get_by_test_id("decision-current-platform").inner_text()
    assert "operator to set an Anthropic key" in page.get_by_test_id("coach-chat-error").inner_text()
    assert log.locator(".coach-message-assistant").count() == 1  # the welcome only
    page.screenshot(path=artifacts_dir / "e2e-coach-chat-offline.png", full_page=True)

    # --- Undo on a card takes the decision back, on the card and the board, without a reload -------------------
    log.get_by_test_id("coach-action-platform").get_by_role("button", name="Undo").click()
    page.wait_for_selector('[data-testid="coach-action-platform"][data-status="undone"]')
    page.wait_for_selector('[data-testid="decision-current-platform"]', state="detached")
    assert "20% · 1 of 5 decisions" in page.get_by_test_id("coach-board").inner_text()
    page.screenshot(path=artifacts_dir / "e2e-coach-chat-undone.png", full_page=True)

    # --- The day's one message is used: the next is refused and kept in the box ---------------------------------
    box.fill("What should I do next?")
    box.press("Enter")
    # A locator waits without evaluating a string in the page, which the Content-Security-Policy refuses.
    page.get_by_test_id("coach-chat-error").filter(has_text="allows today").wait_for()
    assert "1 coach messages your plan allows today" in page.get_by_test_id("coach-chat-error").inner_text()
    assert box.input_value() == "What should I do next?"
    assert log.locator(".coach-message-user").count() == 1
    page.screenshot(path=artifacts_dir / "e2e-coach-chat-limit.png", full_page=True)

    # --- Ticking the last task of a phase is celebrated ---------------------------------------------------------
    for task_id in FOUNDATION:
        page.get_by_test_id(f"toggle-{task_id}").click()
        page.wait_for_selector(f'[data-testid="toggle-{task_id}"][aria-checked="true"]')
    assert "Phase complete: Foundation" in page.get_by_test_id("phase-complete").inner_text()
    page.screenshot(path=artifacts_dir / "e2e-coach-phase-complete.png")
