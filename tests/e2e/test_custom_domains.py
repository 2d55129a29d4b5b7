"""The Domains page in a real browser: a new workspace on the White-Label plan (through a Starter trial) adds a
domain, copies the records the page shows into the local DNS server, checks it (active, with what the check
found), then removes it after the confirmation. The DNS server runs in this process (`dns_zone`); no ORM calls in
the test body."""

from __future__ import annotations

import uuid

import pytest

from tests.support.dns import dns_zone

__all__ = ["dns_zone"]
pytestmark = pytest.mark.e2e

OWNER_PASSWORD = "Amber-kettle-orchard-52"


def test_a_domain_is_added_checked_through_dns_and_removed(committed_live_server, browser_context_factory,
                                                           artifacts_dir, dns_zone):
    live = committed_live_server
    slug = f"e2e-{uuid.uuid4().hex[:8]}"
    host = f"portal.{slug}.example"
    page = browser_context_factory().new_page()
    page.goto(live.url_for(None, "/signup/"))
    page.fill('input[name="name"]', f"Domains {slug[4:]} Agency")
    page.fill('input[name="slug"]', slug)
    page.select_option('select[name="type"]', "business")
    page.fill('input[name="email"]', f"owner@{slug}.test")
    page.fill('input[name="password"]', OWNER_PASSWORD)
    page.get_by_role("button", name="Create workspace").click()
    page.wait_for_url(live.url_for(slug, "/"))
    page.goto(live.url_for(slug, "/billing/"))
    page.select_option('form[action="/billing/subscription/start/"] select[name="price"]', "starter-month-usd")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url(live.url_for(slug, "/billing/"))
    page.select_option('#billing-change select[name="price"]', "white-label-month-usd")
    page.get_by_role("button", name="Preview the change").click()
    page.get_by_role("button", name="Confirm the change").click()
    page.wait_for_url(live.url_for(slug, "/billing/"))

    # --- Settings → Domains: add one, see its records --------------------------------------------------------------
    page.goto(live.url_for(slug, "/settings/"))
    page.get_by_role("link", name="Domains", exact=True).click()
    page.wait_for_url(live.url_for(slug, "/settings/domains/"))
    page.fill('input[name="hostname"]', "not a host")
    page.get_by_role("button", name="Add domain").click()
    assert "not a valid hostname" in page.locator(".field-has-error").inner_text()
    page.fill('input[name="hostname"]', host.upper())
    page.get_by_role("button", name="Add domain").click()
    card = page.locator('[data-testid="domain"]')
    assert card.locator('[data-testid="domain-status"]').text_content().strip() == "Pending verification"
    records = card.locator('[data-testid="domain-records"] tbody tr')
    rows = [[cell.input_value() for cell in records.nth(n).locator("input").all()] for n in range(records.count())]
    assert rows[0][0] == f"_tollgate-challenge.{host}" and rows[1] == [host, f"{slug}.domains.localhost"]
    page.screenshot(path=artifacts_dir / "e2e-domains-pending.png", full_page=True)

    # --- The records created at "the DNS host", then Check now -------------------------------------------------------
    dns_zone.record_set(rows[0][0], "TXT", [rows[0][1]])
    dns_zone.record_set(host, "CNAME", [rows[1][1]])
    card.get_by_role("button", name="Check now").click()
    assert page.get_by_text(f"{host} checks out: it is active.").count() == 1
    assert card.locator('[data-testid="domain-status"]').text_content().strip() == "Active"
    assert card.locator('[data-testid="domain-findings"] tbody tr').count() == 2
    page.get_by_role("button", name="Check now").scroll_into_view_if_needed()
    page.screenshot(path=artifacts_dir / "e2e-domains-active.png", full_page=True)

    # --- Remove, after the confirmation ------------------------------------------------------------------------------
    card.get_by_role("link", name="Remove").click()
    page.get_by_role("button", name="Remove domain").click()
    page.wait_for_url(live.url_for(slug, "/settings/domains/"))
    assert page.get_by_text(f"{host} removed.").count() == 1
    assert page.locator('[data-testid="domain"]').count() == 0
