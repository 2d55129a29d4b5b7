"""Paying by card in a real browser, with Stripe played by the local fake as `./dev up` runs it: a workspace owner
saves a card on the (fake) hosted Checkout page and is back on the billing page showing it, then pays an open
invoice the same way and sees it paid. Everything the pages show after the return came through Stripe's webhooks,
which the fake posted, signed, to dj-stripe's endpoint on the live server: nothing is settled by the browser's
return.

The workspace and its invoice are made before chromium starts (no ORM calls in a test body, see
test_signup_to_api_key.py); `stripe_live` removes dj-stripe's rows, `committed_db` the workspace."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from tests.support.live_server import LiveServer

pytestmark = pytest.mark.e2e

OWNER_PASSWORD = "Velvet-harbour-copper-63"
GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
WEBHOOK_WAIT_S = 10


@pytest.fixture
def workspace(committed_live_server, stripe_live, settings):
    """A workspace with an owner who can sign in and one open invoice of 25.00 USD collected by card."""
    from tenants.services import tenant_provision
    from tests.support.payments import stripe_invoice

    settings.BILLING_INVOICE_SERIES = "ZC"
    slug = f"e2e-{uuid.uuid4().hex[:8]}"
    tenant = tenant_provision(name=f"Cards {slug[4:]} Ltd", slug=slug, owner_email=f"owner@{slug}.test",
                              owner_password=OWNER_PASSWORD).tenant
    invoice = stripe_invoice(tenant, "25.00")
    return {"slug": slug, "email": tenant.owner_email, "invoice": invoice.number}


def sign_in(page, live: LiveServer, workspace: dict) -> None:
    page.goto(live.url_for(workspace["slug"], "/accounts/login/"))
    page.fill('input[name="login"]', workspace["email"])
    page.fill('input[name="password"]', OWNER_PASSWORD)
    page.locator('input[name="password"]').press("Enter")
    page.wait_for_url(re.compile(r"^(?!.*/accounts/login/).*$"))


def card_fill(page, number: str) -> None:
    page.fill('input[name="card_number"]', number)
    page.fill('input[name="expiry"]', "12/49")
    page.fill('input[name="cvc"]', "123")


def reload_until(page, locator, text: str) -> None:
    """Reload until `locator` contains `text`: the page shows what the webhooks brought, which may lag the return."""
    deadline = time.monotonic() + WEBHOOK_WAIT_S
    while text not in (locator.first.text_content() if locator.count() else "") and time.monotonic() < deadline:
        time.sleep(0.3)
        page.reload()
    assert text in locator.first.text_content()


def test_an_owner_saves_a_card_then_pays_an_open_invoice_on_the_hosted_checkout_page(
        workspace, stripe_live, committed_live_server, browser_context_factory, artifacts_dir):
    live = committed_live_server
    page = browser_context_factory().new_page()
    sign_in(page, live, workspace)

    # --- Add a card: to the fake's Checkout page (setup mode), back to the billing page showing it --------------
    page.goto(live.url_for(workspace["slug"], "/billing/"))
    assert page.get_by_test_id("card-none").count() == 1
    page.get_by_role("button", name="Add a card").click()
    page.wait_for_url(f"{stripe_live.base_url}/checkout/*")
    assert page.get_by_role("note").inner_text() == "Stripe test mode stand-in — test data, no real card is charged"
    assert page.get_by_role("heading", name="Save a card").count() == 1
    page.screenshot(path=artifacts_dir / "e2e-card-checkout-setup.png", full_page=True)
    card_fill(page, GOOD_CARD)
    page.get_by_role("button", name="Save card").click()
    page.wait_for_url(re.compile(re.escape(live.url_for(workspace["slug"], "/billing/")) + r"\?card=saved"))
    reload_until(page, page.get_by_test_id("card-on-file"), "4242")
    page.screenshot(path=artifacts_dir / "e2e-card-saved.png", full_page=True)

    # --- Pay the open invoice: Pay now, the fake's Checkout page (payment mode), back to the invoice, paid --------
    invoice_url = live.url_for(workspace["slug"], f"/billing/invoices/{workspace['invoice']}/")
    page.goto(invoice_url)
    page.get_by_role("button", name="Pay now").click()
    page.wait_for_url(f"{stripe_live.base_url}/checkout/*")
    assert page.get_by_test_id("amount").inner_text() == "25.00 USD"
    page.screenshot(path=artifacts_dir / "e2e-card-checkout-payment.png", full_page=True)
    card_fill(page, GOOD_CARD)
    page.get_by_role("button", name="Pay 25.00 USD").click()
    page.wait_for_url(f"{invoice_url}?paid=1")
    reload_until(page, page.locator(".invoice-status"), "Paid")
    assert page.get_by_role("button", name="Pay now").count() == 0
    page.screenshot(path=artifacts_dir / "e2e-card-invoice-paid.png", full_page=True)


def test_a_declined_card_shows_the_error_on_the_checkout_page_and_saves_nothing(
        workspace, stripe_live, committed_live_server, browser_context_factory, artifacts_dir):
    live = committed_live_server
    page = browser_context_factory().new_page()
    sign_in(page, live, workspace)
    page.goto(live.url_for(workspace["slug"], "/billing/"))
    page.get_by_role("button", name="Add a card").click()
    page.wait_for_url(f"{stripe_live.base_url}/checkout/*")

    card_fill(page, DECLINED_CARD)
    page.get_by_role("button", name="Save card").click()

    assert "Your card was declined" in page.get_by_role("alert").inner_text()
    assert page.url.startswith(f"{stripe_live.base_url}/checkout/")
    page.screenshot(path=artifacts_dir / "e2e-card-declined.png", full_page=True)
    page.get_by_role("link", name="Cancel and return").click()
    page.wait_for_url(re.compile(re.escape(live.url_for(workspace["slug"], "/billing/")) + r"\?card=canceled"))
    assert page.get_by_test_id("card-none").count() == 1
