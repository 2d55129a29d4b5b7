"""The affiliate program in a real browser: a visitor follows an affiliate's tracked link (/r/<code>?to=/signup/),
creates a workspace, and pays its first invoice by card on the Stripe fake's hosted Checkout page; the affiliate
then signs in on the public host and sees the commission on that invoice in its portal, pending its holding period
(an ordinary visitor's click and signup from one browser are not self-referral).

Everything between the click and the commission is the platform's own: the click cookie, attribution on signup,
the webhook that settles the invoice, the commission engine on invoice_paid. The one step a browser cannot take,
issuing the workspace's invoice (as a billing run or ops would), runs in a worker thread: no ORM calls in the test
body's thread while Playwright's loop runs there (see test_signup_to_api_key.py)."""

from __future__ import annotations

import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.live_server import LiveServer

pytestmark = pytest.mark.e2e

OWNER_PASSWORD = "Saffron-lantern-meadow-71"
GOOD_CARD = "4242 4242 4242 4242"
INVOICE_AMOUNT = "49.00"
WAIT_S = 10
# Headless chromium names itself in its user agent, and the program ignores bots' clicks: a visitor's browser.
DESKTOP_USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
                      "Safari/537.36")


@pytest.fixture
def affiliate(committed_live_server, stripe_live, settings):
    """An approved affiliate with its public-host account, committed; its referrals, commissions and clicks are
    removed afterwards, before committed_db purges the workspace they point at."""
    from django.utils import timezone

    from affiliates.models import Affiliate, Commission, FraudFlag, Referral, ReferralClick
    from tests.support.portal import affiliate_with_account

    settings.BILLING_INVOICE_SERIES = "ZA"
    # Clicks written at once rather than through the Redis buffer: attribution reads them on signup either way.
    settings.AFFILIATE_CLICK_BUFFER_ENABLED = False
    code = f"e2e-{uuid.uuid4().hex[:6]}"
    affiliate = affiliate_with_account(code=code, at=timezone.now(), email=f"{code}@partners.test")
    try:
        yield affiliate
    finally:
        FraudFlag.objects.filter(affiliate=affiliate).delete()
        Commission.objects.filter(affiliate=affiliate).delete()
        Referral.objects.filter(affiliate=affiliate).delete()
        ReferralClick.objects.filter(affiliate=affiliate).delete()
        Affiliate.objects.filter(pk=affiliate.pk).delete()
        _public_user_delete(affiliate.user_id)


def _public_user_delete(user_id: int) -> None:
    # Not user.delete(): its cascade walks the tenant apps' models, whose tables are not in the public schema.
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("usersessions_usersession", "mfa_authenticator", "account_emailaddress"):
            cursor.execute(f"DELETE FROM {table} WHERE user_id = %s", [user_id])
        cursor.execute("DELETE FROM accounts_user WHERE id = %s", [user_id])


def invoice_issue(slug: str) -> str:
    """The workspace's first invoice, open and collected by card: what the billing run would issue. Runs in a
    worker thread (a database connection of its own, closed at the end)."""
    from django.db import connections

    from tenants.models import Tenant
    from tests.support.payments import stripe_invoice

    try:
        return stripe_invoice(Tenant.objects.get(slug=slug), INVOICE_AMOUNT).number
    finally:
        connections.close_all()


def reload_until(page, locator, text: str) -> None:
    """Reload until `locator` shows `text`: what webhooks and receivers bring may lag the browser's return."""
    deadline = time.monotonic() + WAIT_S
    while text not in (locator.first.text_content() if locator.count() else "") and time.monotonic() < deadline:
        time.sleep(0.3)
        page.reload()
    assert text in locator.first.text_content()


def test_a_click_becomes_a_signup_a_card_payment_and_a_commission_in_the_portal(
        affiliate, stripe_live, committed_live_server: LiveServer, browser_context_factory, artifacts_dir):
    live = committed_live_server
    slug = f"e2e-{uuid.uuid4().hex[:8]}"
    email = f"owner@{slug}.test"
    visitor_context = browser_context_factory()
    visitor_context.set_extra_http_headers({"User-Agent": DESKTOP_USER_AGENT})
    visitor = visitor_context.new_page()

    # --- The visitor follows the affiliate's tracked link to the signup page and creates a workspace ------------
    visitor.goto(live.url_for(None, f"/r/{affiliate.code}?to=/signup/"))
    visitor.wait_for_url(live.url_for(None, "/signup/"))
    visitor.fill('input[name="name"]', f"Referred {slug[4:]} Ltd")
    visitor.fill('input[name="slug"]', slug)
    visitor.select_option('select[name="type"]', "business")
    visitor.fill('input[name="email"]', email)
    visitor.fill('input[name="password"]', OWNER_PASSWORD)
    visitor.screenshot(path=artifacts_dir / "e2e-affiliate-signup.png", full_page=True)
    visitor.get_by_role("button", name="Create workspace").click()
    visitor.wait_for_url(live.url_for(slug, "/"))

    # --- Its first invoice is issued; the owner pays it by card on the fake's Checkout page ----------------------
    with ThreadPoolExecutor(max_workers=1) as pool:
        number = pool.submit(invoice_issue, slug).result()
    invoice_url = live.url_for(slug, f"/billing/invoices/{number}/")
    visitor.goto(invoice_url)
    visitor.get_by_role("button", name="Pay now").click()
    visitor.wait_for_url(f"{stripe_live.base_url}/checkout/*")
    visitor.fill('input[name="card_number"]', GOOD_CARD)
    visitor.fill('input[name="expiry"]', "12/49")
    visitor.fill('input[name="cvc"]', "123")
    visitor.get_by_role("button", name=f"Pay {INVOICE_AMOUNT} USD").click()
    visitor.wait_for_url(f"{invoice_url}?paid=1")
    reload_until(visitor, visitor.locator(".invoice-status"), "Paid")
    visitor.screenshot(path=artifacts_dir / "e2e-affiliate-invoice-paid.png", full_page=True)

    # --- The affiliate signs in on the public host and finds the signup and the commission in its portal ---------
    portal = browser_context_factory().new_page()
    portal.goto(live.url_for(None, "/accounts/login/?next=/affiliates/portal/"))
    portal.fill('input[name="login"]', affiliate.email)
    portal.fill('input[name="password"]', "pw-affiliate-portal-1")
    portal.locator('input[name="password"]').press("Enter")
    portal.wait_for_url(re.compile(re.escape(live.url_for(None, "/affiliates/portal/")) + r"$"))
    assert portal.locator("#figure-clicks").inner_text() == "1"
    assert portal.locator("#figure-signups").inner_text() == "1"
    portal.screenshot(path=artifacts_dir / "e2e-affiliate-portal.png", full_page=True)

    portal.goto(live.url_for(None, "/affiliates/portal/commissions/"))
    row = portal.locator("#commission-rows tbody tr", has_text=number)
    reload_until(portal, row, "4.90 USD")
    # An honest referral (clicked and signed up in one browser, not the affiliate's) waits out the holding period:
    # not held for self-referral.
    assert row.first.locator(".badge").inner_text() == "Pending (holding period)"
    portal.screenshot(path=artifacts_dir / "e2e-affiliate-commission.png", full_page=True)
