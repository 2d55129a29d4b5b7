"""The whole first-day journey in a real browser: sign up on the public site, land signed in on the new workspace,
create an API key and use it, invite a member by email, and the member joins and can't reach the API keys page.

Runs against a live server in this process (committed data; the new tenant is purged afterwards by
`committed_db`). Screenshots of the pages along the way go to test-artifacts/.

No ORM calls in the test body: while Playwright's sync API is active its event loop counts as running in this
thread, and Django refuses database access there (SynchronousOnlyOperation). Check state through the browser, the
API or the mail outbox instead.
"""

from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.core import mail
from django.db import connections

from metering.limits.tracking import api_calls_flush
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.e2e

OWNER_PASSWORD = "Quiet-harbour-lantern-41"
MEMBER_PASSWORD = "Copper-meadow-violin-87"
INVITATION_LINK = re.compile(r"https?://[^\s\"'<>]+/invitations/[^/\s\"'<>]+/")


def _path_of(url: str, live: LiveServer, slug: str | None) -> str:
    """The path of `url` after checking it is on the expected host of the live server."""
    prefix = live.url_for(slug, "")
    assert url.startswith(prefix + "/"), f"expected a page on {prefix}, got {url}"
    return url[len(prefix):]


def _nav_link_names(page) -> list[str]:
    links = page.get_by_role("navigation", name="Sections").get_by_role("link")
    return [name.strip() for name in links.all_text_contents()]


def _column_text(page, row_text: str, column: str) -> str:
    """The text of the `column` cell in the table row containing `row_text` (columns found by their header)."""
    # DOM text, not rendered text: the stylesheet may upper-case headers.
    headers = [header.strip() for header in page.locator("table thead th").all_text_contents()]
    row = page.locator("table tbody tr", has_text=row_text)
    assert row.count() == 1, f"expected one row with {row_text!r}"
    return row.locator("td").nth(headers.index(column)).text_content().strip()


def test_signup_create_an_api_key_use_it_and_invite_a_member(committed_live_server, browser_context_factory,
                                                             artifacts_dir):
    live = committed_live_server
    slug = f"e2e-{uuid.uuid4().hex[:8]}"
    workspace_name = f"Journey {slug[4:]} Ltd"
    owner_email = f"owner@{slug}.test"
    member_email = f"member@{slug}.test"
    mail.outbox.clear()

    # --- Sign up on the public site --------------------------------------------------------------------------
    owner = browser_context_factory().new_page()
    owner.goto(live.url_for(None, "/signup/"))
    owner.fill('input[name="name"]', workspace_name)
    owner.fill('input[name="slug"]', slug)
    owner.select_option('select[name="type"]', "business")
    owner.fill('input[name="email"]', owner_email)
    owner.fill('input[name="password"]', OWNER_PASSWORD)
    owner.get_by_role("button", name="Create workspace").click()

    # Landed signed in on the new workspace's host, through its one-time login link.
    owner.wait_for_url(live.url_for(slug, "/"))
    assert owner.get_by_role("heading", level=1).inner_text().strip() == workspace_name
    assert owner_email in owner.locator(".sidebar-user").inner_text()
    assert "API keys" in _nav_link_names(owner)
    owner.screenshot(path=artifacts_dir / "e2e-owner-dashboard.png", full_page=True)

    # --- Create an API key with the read scope; the full key is shown once -------------------------------------
    owner.goto(live.url_for(slug, "/api-keys/"))
    owner.fill('input[name="name"]', "E2E journey key")
    owner.check('input[name="scopes"][value="read"]')
    owner.get_by_role("button", name="Create key").click()
    owner.wait_for_url(live.url_for(slug, "/api-keys/"))
    secret = owner.get_by_label("New API key").input_value()
    assert secret.startswith("tg_live_")
    assert _column_text(owner, "E2E journey key", "Scopes") == "read"
    assert _column_text(owner, "E2E journey key", "Last used") == "Never"

    # --- Use it against the API, as a program would -----------------------------------------------------------
    response = httpx.get(f"{live.base_url}/api/v1/tenant", timeout=10,
                         headers={"Host": live.host_for(slug), "Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["slug"] == slug
    assert body["name"] == workspace_name

    # The page records the use, and never shows the full key again.
    owner.reload()
    assert _column_text(owner, "E2E journey key", "Last used") != "Never"
    assert owner.locator("table tbody tr", has_text="E2E journey key").locator("time").count() == 2  # created, used
    assert secret not in owner.content()
    assert owner.get_by_label("New API key").count() == 0
    owner.screenshot(path=artifacts_dir / "e2e-owner-api-keys.png", full_page=True)

    # --- The usage page shows the plan, every meter and the call just made (once the beat job flushed it) ------
    _in_a_thread(api_calls_flush)
    owner.goto(live.url_for(slug, "/usage/"))
    assert owner.get_by_role("heading", name="Usage").count() >= 1
    assert owner.get_by_text("API calls").count() >= 1
    assert owner.locator('tr[data-endpoint="GET /api/v1/tenant"] td').nth(2).inner_text() == "1"
    owner.screenshot(path=artifacts_dir / "e2e-owner-usage.png", full_page=True)

    # --- Invite a member ----------------------------------------------------------------------------------------
    owner.goto(live.url_for(slug, "/team/"))
    owner.fill('input[name="email"]', member_email)
    owner.select_option('select[name="role"]', "member")
    owner.get_by_role("button", name="Send invitation").click()
    owner.wait_for_url(live.url_for(slug, "/team/"))
    assert owner.get_by_role("region", name="Pending invitations").get_by_text(member_email).count() == 1
    owner.screenshot(path=artifacts_dir / "e2e-owner-team.png", full_page=True)

    # The invitation email (locmem backend: the server thread shares this process's outbox).
    invitations = [message for message in mail.outbox if message.to == [member_email]]
    assert len(invitations) == 1, [message.subject for message in mail.outbox]
    links = set(INVITATION_LINK.findall(invitations[0].body))
    assert len(links) == 1, invitations[0].body
    (link,) = links
    assert _path_of(link, live, slug).startswith("/invitations/")

    # --- The member joins in a browser of their own -----------------------------------------------------------
    member = browser_context_factory().new_page()
    member.goto(link)
    assert member_email in member.content()
    member.fill('input[name="full_name"]', "Mia Member")
    member.fill('input[name="password1"]', MEMBER_PASSWORD)
    member.fill('input[name="password2"]', MEMBER_PASSWORD)
    member.get_by_role("button", name=re.compile(r"^Join ")).click()
    member.wait_for_url(live.url_for(slug, "/"))
    assert member.get_by_role("heading", level=1).inner_text().strip() == workspace_name
    assert member_email in member.locator(".sidebar-user").inner_text()
    assert member.get_by_role("region", name="Your role").inner_text().endswith("Member")
    assert "API keys" not in _nav_link_names(member)
    member.screenshot(path=artifacts_dir / "e2e-member-dashboard.png", full_page=True)

    # A member's role doesn't include API keys: a direct visit is refused.
    refused = member.goto(live.url_for(slug, "/api-keys/"))
    assert refused is not None and refused.status == 403
    assert member.get_by_role("heading", level=1).inner_text().strip() == "Not allowed"
    assert "API keys" not in _nav_link_names(member)
    member.screenshot(path=artifacts_dir / "e2e-member-api-keys-403.png", full_page=True)

    # The owner's team page now lists the member.
    owner.goto(live.url_for(slug, "/team/"))
    member_row = owner.get_by_role("region", name="Members").locator("tbody tr", has_text=member_email)
    assert member_row.count() == 1
    assert "Mia Member" in member_row.text_content()


def _in_a_thread(function):
    """Run Django database work from the test: Playwright's sync API keeps an event loop in this thread, where
    Django refuses it. The worker thread closes its connection when done."""
    def run():
        try:
            return function()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()
