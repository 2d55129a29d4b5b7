"""Browser tests: Debian's chromium driven by Playwright (sync API) against a live server in this process.

Playwright's own browser download is not used: the tests launch the system chromium. Without it they skip
locally and fail in CI (env CI=true), so a CI image that lost chromium can't pass silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live_server import committed_live_server, live_server_url  # noqa: F401

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DEFAULT_TIMEOUT_MS = 15_000


@pytest.fixture(autouse=True)
def signups_unthrottled(settings) -> None:
    """Every browser signs up from 127.0.0.1, and the per-IP signup limit counts in Redis across the whole run (a
    shared Redis in CI): without this, the journeys that sign up fail by their order. The limit itself is tested in
    tests/tenants/test_views_public.py."""
    settings.SIGNUP_RATE_LIMIT = "10000/h"


@pytest.fixture
def chromium_browser(committed_live_server) -> Iterator:
    """Chromium for one test, started after the live server and closed before it stops.

    Function-scoped on purpose: while the sync Playwright API is active, its event loop counts as running in this
    thread, and Django refuses database calls from a thread with a running loop; `committed_db` purges the test's
    tenants after this fixture has stopped Playwright. Starting chromium takes well under a second."""
    if not CHROMIUM.exists():
        message = f"chromium is not installed ({CHROMIUM} is missing): apt-get install chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip("chromium is not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_context_factory(chromium_browser) -> Iterator:
    """New, isolated browser contexts (own cookies) for one test; all closed at its end, before chromium and the
    live server stop, so no keep-alive connection outlives the test."""
    contexts, watches = [], []

    def new_context():
        context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        watches.append(csp_violations_watch(context))
        contexts.append(context)
        return context

    try:
        yield new_context
    finally:
        for context in contexts:
            context.close()
    violations = [violation for watch in watches for violation in watch]
    assert not violations, f"Content-Security-Policy violations: {violations}"


def csp_violations_watch(context) -> list[str]:
    """The Content-Security-Policy violations chromium reports on the console of any page of `context`, as they
    happen (a list filled later): every browser test ends by asserting there were none (config/csp.py)."""
    violations: list[str] = []

    def on_console(message) -> None:
        if "Content Security Policy" in message.text:
            violations.append(f"{message.page.url if message.page else '?'}: {message.text}")

    context.on("console", on_console)
    return violations


@pytest.fixture
def artifacts_dir() -> Path:
    """Where screenshots go: test-artifacts/ at the repository root (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def stripe_live(committed_live_server, settings) -> Iterator:
    """Stripe on, against the fake as `./dev up` runs it: the browser opens its hosted Checkout page, and it posts
    the events Stripe would send (signed with the endpoint's secret) to dj-stripe's endpoint on the live server.

    What the journey committed in dj-stripe's tables (the customer, its cards, intents, sessions, events and the
    endpoint's delivery log) is removed afterwards, before `committed_db` purges the tenant."""
    from djstripe.models import WebhookEndpoint, WebhookEventTrigger

    from billing.payments.webhooks import WEBHOOK_ENDPOINT_ID, webhook_endpoint_ensure
    from devtools.stripe_fake import TEST_SECRET_KEY, WEBHOOK_SECRET, FakeStripeServer

    server = FakeStripeServer().start()
    settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE = TEST_SECRET_KEY, server.url
    settings.STRIPE_WEBHOOK_SECRET, settings.STRIPE_MAX_NETWORK_RETRIES = WEBHOOK_SECRET, 0
    endpoint_existed = WebhookEndpoint.objects.filter(id=WEBHOOK_ENDPOINT_ID).exists()
    last_trigger = WebhookEventTrigger.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    server.site.webhook_url_set(webhook_endpoint_ensure(secret=WEBHOOK_SECRET).url)
    try:
        yield server.fake
    finally:
        server.stop()
        _stripe_rows_purge(set(server.fake.objects), last_trigger=last_trigger, endpoint=not endpoint_existed)


def _stripe_rows_purge(stripe_ids: set[str], *, last_trigger: int, endpoint: bool) -> None:
    from djstripe import models as djstripe_models

    from billing.payments.webhooks import WEBHOOK_ENDPOINT_ID
    from devtools.stripe_fake import ACCOUNT_ID

    djstripe_models.WebhookEventTrigger.objects.filter(pk__gt=last_trigger).delete()
    for name in ("Event", "Session", "Refund", "Charge", "PaymentIntent", "SetupIntent", "PaymentMethod", "Customer"):
        getattr(djstripe_models, name).objects.filter(id__in=stripe_ids - {ACCOUNT_ID}).delete()
    if endpoint:
        djstripe_models.WebhookEndpoint.objects.filter(id=WEBHOOK_ENDPOINT_ID).delete()
