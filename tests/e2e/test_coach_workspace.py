"""The coach's workspace in a real browser, without an AI key: a new workspace's owner sets up their creator
profile, starts the premium community project, ticks a task (htmx swaps the board in place), records the pricing
decision from its card, reloads and finds everything kept. The chat's streamed path is issue 13 §3's.

The tenant (and the coach rows in its schema) is purged by `committed_db`. No ORM calls in the test body (see
test_signup_to_api_key.py)."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.e2e

OWNER_PASSWORD = "Amber-kettle-orchard-52"


def test_profile_project_task_and_decision_survive_a_reload(committed_live_server, browser_context_factory,
                                                            artifacts_dir):
    live = committed_live_server
    slug = f"e2e-{uuid.uuid4().hex[:8]}"
    page = browser_context_factory().new_page()
    page.goto(live.url_for(None, "/signup/"))
    page.fill('input[name="name"]', f"Coach {slug[4:]} Studio")
    page.fill('input[name="slug"]', slug)
    page.select_option('select[name="type"]', "individual")
    page.fill('input[name="email"]', f"owner@{slug}.test")
    page.fill('input[name="password"]', OWNER_PASSWORD)
    page.get_by_role("button", name="Create workspace").click()
    page.wait_for_url(live.url_for(slug, "/"))

    # --- The profile, with an error first -------------------------------------------------------------------------
    page.goto(live.url_for(slug, "/coach/"))
    page.get_by_role("link", name="Set up your creator profile").click()
    page.select_option('select[name="primary_platform"]', "youtube")
    page.fill('input[name="follower_count"]', "50000")
    page.fill('input[name="engagement_rate"]', "140")
    page.fill('input[name="niche"]', "home baking for beginners")
    page.fill('input[name="monthly_revenue_goal"]', "3000")
    page.fill('input[name="hours_per_week"]', "10")
    page.get_by_role("button", name="Save the profile").click()
    assert page.locator(".field-has-error").count() == 1
    page.screenshot(path=artifacts_dir / "e2e-coach-profile-error.png", full_page=True)
    page.fill('input[name="engagement_rate"]', "4")
    page.get_by_role("button", name="Save the profile").click()
    page.wait_for_url(live.url_for(slug, "/coach/"))

    # --- Start the premium community project ---------------------------------------------------------------------
    page.get_by_role("button", name="Start the project").click()
    page.wait_for_url(live.url_for(slug, "/coach/"))
    assert page.get_by_test_id("coach-board").count() == 1
    assert "79.00 USD" in page.get_by_test_id("decision-pricing").inner_text()
    page.screenshot(path=artifacts_dir / "e2e-coach-workspace.png", full_page=True)

    # --- Tick a task: the board is swapped in place ---------------------------------------------------------------
    page.get_by_test_id("toggle-audience-survey").click()
    page.wait_for_selector('[data-testid="toggle-audience-survey"][aria-checked="true"]')
    assert "4% · 1 of 22 tasks" in page.get_by_test_id("coach-board").inner_text()

    # --- Record the pricing decision from its card ----------------------------------------------------------------
    card = page.get_by_test_id("decision-pricing")
    card.get_by_text("Decide", exact=True).click()
    card.get_by_label("Core and premium tiers").check()
    card.get_by_role("button", name="Record the decision").click()
    page.wait_for_url(live.url_for(slug, "/coach/"))
    page.screenshot(path=artifacts_dir / "e2e-coach-decided.png", full_page=True)

    # --- Reload: everything is kept -------------------------------------------------------------------------------
    page.reload()
    assert page.get_by_test_id("toggle-audience-survey").get_attribute("aria-checked") == "true"
    assert "79.00 USD a month" in page.get_by_test_id("decision-current-pricing").inner_text()
    assert "20% · 1 of 5 decisions" in page.get_by_test_id("coach-board").inner_text()
    page.screenshot(path=artifacts_dir / "e2e-coach-reloaded.png", full_page=True)
