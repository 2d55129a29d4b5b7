"""Billing in a real browser: a new workspace starts a Starter trial from its billing page, previews the move to
Pro, confirms it, and the page shows the new plan; the public pricing page shows the catalogue's prices.

Trial changes make no invoice (nothing was paid), so the committed data stays purgeable by `committed_db`.
No ORM calls in the test body (see test_signup_to_api_key.py)."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.e2e

OWNER_PASSWORD = "Amber-kettle-orchard-52"


def test_start_a_trial_then_move_to_pro_from_the_billing_page(committed_live_server, browser_context_factory,
                                                              artifacts_dir):
    live = committed_live_server
    slug = f"e2e-{uuid.uuid4().hex[:8]}"
    page = browser_context_factory().new_page()
    page.goto(live.url_for(None, "/signup/"))
    page.fill('input[name="name"]', f"Billing {slug[4:]} Ltd")
    page.fill('input[name="slug"]', slug)
    page.select_option('select[name="type"]', "business")
    page.fill('input[name="email"]', f"owner@{slug}.test")
    page.fill('input[name="password"]', OWNER_PASSWORD)
    page.get_by_role("button", name="Create workspace").click()
    page.wait_for_url(live.url_for(slug, "/"))

    # --- No subscription yet: start Starter, which has a 14-day trial ------------------------------------------
    page.goto(live.url_for(slug, "/billing/"))
    page.select_option('form[action="/billing/subscription/start/"] select[name="price"]', "starter-month-usd")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url(live.url_for(slug, "/billing/"))
    assert page.locator(".billing-status").first.inner_text().strip() == "Trialing"
    assert "Trial until" in page.locator("#billing-trial").inner_text()
    page.screenshot(path=artifacts_dir / "e2e-billing-trial.png", full_page=True)

    # --- Preview the move to Pro, then confirm it -------------------------------------------------------------
    page.select_option('#billing-change select[name="price"]', "pro-month-usd")
    page.get_by_role("button", name="Preview the change").click()
    assert page.get_by_role("heading", name="Confirm the change").count() == 1
    page.screenshot(path=artifacts_dir / "e2e-billing-preview.png", full_page=True)
    page.get_by_role("button", name="Confirm the change").click()
    page.wait_for_url(live.url_for(slug, "/billing/"))
    assert page.locator(".card", has_text="Plan").first.get_by_text("Pro", exact=True).count() == 1
    page.screenshot(path=artifacts_dir / "e2e-billing-pro.png", full_page=True)

    # --- The public pricing page is the catalogue -------------------------------------------------------------
    page.goto(live.url_for(None, "/pricing/"))
    assert page.get_by_text("99.00 USD").count() >= 1
    assert page.get_by_role("link", name="Contact sales").count() == 1
    page.screenshot(path=artifacts_dir / "e2e-pricing.png", full_page=True)
