"""The Branding page in a real browser: a new workspace moves to the White-Label plan (through a Starter trial,
so no invoice is made and `committed_db` can purge it), finds Branding in its sidebar, changes its colours and
sees the preview follow as it types (htmx, nothing saved), is refused a colour below WCAG AA with the ratio under
the field, then saves and finds its brand kept. No ORM calls in the test body (see test_signup_to_api_key.py)."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.e2e

OWNER_PASSWORD = "Amber-kettle-orchard-52"


def test_colours_change_the_preview_as_typed_and_are_kept_on_save(committed_live_server, browser_context_factory,
                                                                  artifacts_dir):
    live = committed_live_server
    slug = f"e2e-{uuid.uuid4().hex[:8]}"
    page = browser_context_factory().new_page()
    page.goto(live.url_for(None, "/signup/"))
    page.fill('input[name="name"]', f"Brand {slug[4:]} Agency")
    page.fill('input[name="slug"]', slug)
    page.select_option('select[name="type"]', "business")
    page.fill('input[name="email"]', f"owner@{slug}.test")
    page.fill('input[name="password"]', OWNER_PASSWORD)
    page.get_by_role("button", name="Create workspace").click()
    page.wait_for_url(live.url_for(slug, "/"))
    assert page.locator('.sidebar-nav a[href="/settings/branding/"]').count() == 0

    # --- The White-Label plan, through a trial --------------------------------------------------------------------
    page.goto(live.url_for(slug, "/billing/"))
    page.select_option('form[action="/billing/subscription/start/"] select[name="price"]', "starter-month-usd")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url(live.url_for(slug, "/billing/"))
    page.select_option('#billing-change select[name="price"]', "white-label-month-usd")
    page.get_by_role("button", name="Preview the change").click()
    page.get_by_role("button", name="Confirm the change").click()
    page.wait_for_url(live.url_for(slug, "/billing/"))

    # --- Branding: the preview follows the form ---------------------------------------------------------------------
    page.locator('.sidebar-nav a[href="/settings/branding/"]').click()
    page.wait_for_url(live.url_for(slug, "/settings/branding/"))
    frame = page.locator("#brand-preview iframe")
    assert frame.get_attribute("data-primary") == "#1f4b99"
    page.screenshot(path=artifacts_dir / "e2e-branding-default.png", full_page=True)
    page.fill('input[name="display_name"]', "Northwind Portal")
    page.fill('input[name="primary_colour"]', "#0b5d1e")
    page.fill('input[name="accent_colour"]', "#5b2a86")
    page.wait_for_selector('#brand-preview iframe[data-primary="#0b5d1e"][data-accent="#5b2a86"]')
    inside = page.frame_locator("#brand-preview iframe")
    assert inside.locator('[data-preview="login"]').inner_text().count("Sign in to Northwind Portal") == 1
    # The email preview is the real email layout, in a frame of its own.
    email = inside.frame_locator('[data-preview="email"] iframe.pv-email')
    assert email.locator('[data-email-part="header"]').evaluate(
        "el => getComputedStyle(el).backgroundColor") == "rgb(11, 93, 30)"
    assert email.locator('[data-email-part="header"]').inner_text().strip() == "Northwind Portal"
    page.screenshot(path=artifacts_dir / "e2e-branding-preview.png", full_page=True)

    # --- A colour below AA is refused under its field, with the ratio ------------------------------------------------
    page.fill('input[name="primary_colour"]', "#777777")
    page.get_by_role("button", name="Save brand").click()
    error = page.locator(".field-has-error")
    assert error.count() == 1
    assert "4.48:1" in error.inner_text()
    page.screenshot(path=artifacts_dir / "e2e-branding-contrast-error.png", full_page=True)

    # --- Saved and kept -------------------------------------------------------------------------------------------
    page.fill('input[name="primary_colour"]', "#0b5d1e")
    page.get_by_role("button", name="Save brand").click()
    page.wait_for_url(live.url_for(slug, "/settings/branding/"))
    assert page.get_by_text("Brand saved.").count() == 1
    page.reload()
    assert page.locator('input[name="display_name"]').input_value() == "Northwind Portal"
    assert page.locator("#brand-preview iframe").get_attribute("data-primary") == "#0b5d1e"
    page.screenshot(path=artifacts_dir / "e2e-branding-saved.png", full_page=True)
