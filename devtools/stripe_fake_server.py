"""The fake Stripe as a service (`./dev up` without keys, the browser tests): what a browser and Stripe's webhook
sender do around the HTTP API of devtools/stripe_fake.py.

- **Hosted pages.** GET /checkout/<cs_id> is the Checkout page a session's `url` points at, labelled as a test
  stand-in: the amount (payment mode) or "Save a card" (setup mode), a card form listing the test cards, and a
  link back to the session's cancel_url. Its POST completes the session as `FakeStripe.checkout_complete` does
  (a declined card shows the error and the page stays), waits a few seconds for the webhooks that completion sends
  to be delivered, and redirects to success_url. GET /portal/<bps_id> is a read-only customer portal: the
  customer's cards and a link back.
- **Webhooks.** Events the fake sends on its own are posted to the webhook URL, signed with the endpoint secret
  (Stripe-Signature, as Stripe signs), one at a time in the order they happened, from a background thread that
  retries a failed delivery with growing pauses (about two minutes in all), as Stripe retries. The URL is given at
  start (`--webhook-url`, env STRIPE_FAKE_WEBHOOK_URL) or later: POST /_fake/webhook-url with `url=...` and the
  fake's secret key as the bearer token (`./dev up` does this once `stripe_webhook_setup` has made the endpoint).
- **State.** With a state file the objects and the idempotency keys are loaded at start and written after each
  change (to a temporary file, then renamed over the old one), so a restart keeps the cards a demo saved.

Run: `python -m devtools.stripe_fake_server --port 12111 --state .data/stripe-fake.json`.
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import logging
import os
import queue
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from devtools.stripe_fake import (
    CARD_AUTHENTICATION,
    CARD_DECLINED,
    CARD_OK,
    TEST_SECRET_KEY,
    WEBHOOK_SECRET,
    FakeStripe,
    FakeStripeServer,
    signature_header,
)

logger = logging.getLogger("devtools.stripe_fake")

DEV_PORT = 12111
PUBLISHABLE_KEY = "pk_test_tollgateFakeStripeKey0000000000"
# Pauses before each retry of a failed delivery (Stripe's own retries span three days; a dev box needs minutes).
RETRY_PAUSES_S = (0.5, 1, 2, 4, 8, 15, 30, 60)
DELIVERY_TIMEOUT_S = 30
# How long the Checkout page waits for its webhooks before sending the browser back, so the page it returns to
# usually shows the result (Stripe does not wait; our pages say "being confirmed" when it lags).
CHECKOUT_DELIVERY_WAIT_S = 10
ZERO_DECIMAL_CURRENCIES = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
                           "vuv", "xaf", "xof", "xpf"}
TEST_CARDS = (
    ("4242 4242 4242 4242", "succeeds"),
    ("4000 0000 0000 0002", "is declined"),
    ("4000 0027 6000 3184", "asks for authentication (approved here, as the cardholder would)"),
)

Response = tuple[int, str, bytes, dict[str, str]]


# --- Webhook delivery ----------------------------------------------------------------------------------------------

class WebhookDelivery:
    """Posts events to `url` in order from one background thread, retrying each failed delivery."""

    def __init__(self, *, secret: str, pauses: tuple[float, ...] = RETRY_PAUSES_S,
                 post: Callable[[str, bytes, dict[str, str]], int] | None = None):
        self.secret = secret
        self.url: str | None = None
        self.pauses = pauses
        self.post = post or _http_post
        self.queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.pending = 0
        self.idle = threading.Condition()
        self.thread = threading.Thread(target=self._run, name="fake-stripe-webhooks", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=5)

    def enqueue(self, event: dict[str, Any]) -> None:
        with self.idle:
            self.pending += 1
        self.queue.put(copy.deepcopy(event))

    def wait_idle(self, timeout_s: float) -> bool:
        """Whether every queued event was delivered (or given up on) within `timeout_s`."""
        with self.idle:
            return self.idle.wait_for(lambda: self.pending == 0, timeout=timeout_s)

    def _run(self) -> None:
        while (event := self.queue.get()) is not None:
            try:
                self._deliver(event)
            finally:
                with self.idle:
                    self.pending -= 1
                    self.idle.notify_all()

    def _deliver(self, event: dict[str, Any]) -> None:
        payload = json.dumps(event)
        for attempt, pause in enumerate((0, *self.pauses)):
            time.sleep(pause)
            url = self.url
            if url is None:
                return
            # Signed at each attempt, as Stripe does: a signature's timestamp must be recent.
            headers = {"Content-Type": "application/json", "Stripe-Signature": signature_header(payload,
                                                                                               secret=self.secret)}
            status = self.post(url, payload.encode(), headers)
            if 200 <= status < 300:
                logger.info("webhook_delivered event=%s type=%s status=%s attempt=%s", event["id"], event["type"],
                            status, attempt + 1)
                return
            logger.warning("webhook_delivery_failed event=%s type=%s status=%s attempt=%s", event["id"],
                           event["type"], status, attempt + 1)
        logger.error("webhook_delivery_abandoned event=%s type=%s", event["id"], event["type"])


def _http_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """The HTTP status of POSTing `body` to `url`, or 0 when nothing answered."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT_S) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


# --- State file ----------------------------------------------------------------------------------------------------

def state_save(fake: FakeStripe, path: Path) -> None:
    """Write the fake's objects and idempotency keys to `path` atomically (a reader never sees half a file)."""
    with fake.lock:
        data = json.dumps({"objects": fake.objects, "idempotent": fake.idempotent})
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_text(data)
    os.replace(temporary, path)


def state_load(fake: FakeStripe, path: Path) -> bool:
    """Load what `state_save` wrote; False (the fake left as it is) when there is no file yet."""
    if not path.exists():
        return False
    data = json.loads(path.read_text())
    with fake.lock:
        fake.objects.update(data["objects"])
        fake.idempotent.update({key: tuple(value) for key, value in data["idempotent"].items()})
    return True


# --- The site --------------------------------------------------------------------------------------------------

class FakeStripeSite:
    """What is not the API: hosted pages, the control endpoint, webhook delivery and the state file."""

    def __init__(self, fake: FakeStripe, *, webhook_secret: str = WEBHOOK_SECRET, state_path: Path | None = None):
        self.fake = fake
        self.state_path = state_path
        self.delivery = WebhookDelivery(secret=webhook_secret)

    def start(self, *, webhook_url: str | None = None) -> None:
        if self.state_path is not None:
            state_load(self.fake, self.state_path)
            self.fake.on_change = lambda: state_save(self.fake, self.state_path)
        self.webhook_url_set(webhook_url)
        self.delivery.start()

    def stop(self) -> None:
        self.delivery.stop()

    def webhook_url_set(self, url: str | None) -> None:
        """Send events to `url` from now on (None: build and send none, as in the unit tests)."""
        with self.fake.lock:
            self.delivery.url = url or None
            self.fake.webhook_sink = self.delivery.enqueue if url else None

    def handle(self, method: str, path: str, query: str, body: str, headers: dict[str, str]) -> Response:
        parts = path.strip("/").split("/")
        form = dict(parse_qsl(body, keep_blank_values=True))
        if len(parts) == 2 and parts[0] == "checkout" and method in {"GET", "POST"}:
            return self._checkout(parts[1], form if method == "POST" else None)
        if len(parts) == 2 and parts[0] == "portal" and method == "GET":
            return self._portal(parts[1])
        if parts == ["_fake", "health"] and method == "GET":
            return _json(200, {"ok": True, "webhook_url": self.delivery.url})
        if parts == ["_fake", "webhook-url"] and method == "POST":
            if headers.get("authorization") != f"Bearer {TEST_SECRET_KEY}":
                return _json(401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}})
            self.webhook_url_set(form.get("url"))
            return _json(200, {"webhook_url": self.delivery.url})
        return _html(404, _page("Not found", "<p>The fake Stripe has no page here.</p>"))

    # --- Checkout ---------------------------------------------------------------------------------------------

    def _checkout(self, session_id: str, form: dict[str, str] | None) -> Response:
        with self.fake.lock:
            session = self.fake.objects.get(session_id)
            session = copy.deepcopy(session) if session and session.get("object") == "checkout.session" else None
        if session is None:
            return _html(404, _page("Not found", "<p>This Checkout page does not exist.</p>"))
        if session["status"] != "open":
            link = _success_url(session)
            return _html(200, _page("Already done", "<p>This Checkout page has been completed.</p>"
                                    f'<p><a href="{html.escape(link)}">Return to the site</a></p>'))
        if form is None:
            return _html(200, _checkout_page(session, form={}, error=None))
        card, error = _card_read(form)
        if error is None and card == CARD_DECLINED:
            error = "Your card was declined. Try another card."
        if error is not None:
            return _html(402, _checkout_page(session, form=form, error=error))
        with self.fake.lock:
            # Submitted twice (a double click): the first completes the session, the second finds it done.
            if self.fake.objects[session_id]["status"] != "open":
                return 303, "text/plain", b"", {"Location": _success_url(session)}
            self.fake.checkout_complete(session_id, last4=card)
        self.delivery.wait_idle(CHECKOUT_DELIVERY_WAIT_S)
        return 303, "text/plain", b"", {"Location": _success_url(session)}

    # --- Customer portal --------------------------------------------------------------------------------------

    def _portal(self, portal_id: str) -> Response:
        with self.fake.lock:
            portal = copy.deepcopy(self.fake.objects.get(portal_id))
            if portal is None or portal.get("object") != "billing_portal.session":
                return _html(404, _page("Not found", "<p>This portal session does not exist.</p>"))
            customer = self.fake.objects.get(portal["customer"]) or {}
            default = (customer.get("invoice_settings") or {}).get("default_payment_method")
            cards = [copy.deepcopy(o) for o in self.fake.objects.values()
                     if o.get("object") == "payment_method" and o.get("customer") == portal["customer"]]
        rows = "".join(
            f"<li>{html.escape(c['card']['brand'].title())} ···· {html.escape(c['card']['last4'])}, expires "
            f"{c['card']['exp_month']:02d}/{c['card']['exp_year']}{' (default)' if c['id'] == default else ''}</li>"
            for c in cards) or "<li>No card saved.</li>"
        back = html.escape(portal.get("return_url") or "/")
        return _html(200, _page("Your cards", f"<ul>{rows}</ul><p>This stand-in shows the cards only; add one from "
                                              f'the site\'s billing page.</p><p><a href="{back}">Return</a></p>'))


def _card_read(form: dict[str, str]) -> tuple[str, str | None]:
    """The card's last four digits, or an error in the words Stripe's page would use."""
    number = "".join(ch for ch in form.get("card_number", "") if not ch.isspace())
    if not number.isdigit() or not 13 <= len(number) <= 19 or not _luhn_ok(number):
        return "", "Your card number is invalid."
    month, _, year = form.get("expiry", "").replace(" ", "").partition("/")
    if not (month.isdigit() and year.isdigit() and 1 <= int(month) <= 12 and len(year) in (2, 4)):
        return "", "Your card's expiration date is incomplete."
    year_full = int(year) + (2000 if len(year) == 2 else 0)
    today = date.today()
    if (year_full, int(month)) < (today.year, today.month):
        return "", "Your card's expiration date is in the past."
    cvc = form.get("cvc", "").strip()
    if not (cvc.isdigit() and len(cvc) in (3, 4)):
        return "", "Your card's security code is incomplete."
    return number[-4:], None


def _luhn_ok(number: str) -> bool:
    total = 0
    for index, digit in enumerate(reversed(number)):
        value = int(digit) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _success_url(session: dict[str, Any]) -> str:
    return (session.get("success_url") or "/").replace("{CHECKOUT_SESSION_ID}", session["id"])


def _amount(minor: int, currency: str) -> str:
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return f"{minor:,} {currency.upper()}"
    return f"{minor // 100:,}.{minor % 100:02d} {currency.upper()}"


def _checkout_page(session: dict[str, Any], *, form: dict[str, str], error: str | None) -> str:
    setup = session["mode"] == "setup"
    description = (session.get("_payment_intent_data") or {}).get("description")
    if setup:
        heading, button = "Save a card", "Save card"
        summary = "<p>Your card is saved for later payments. Nothing is charged now.</p>"
    else:
        amount = _amount(int(session["amount_total"]), session["currency"])
        heading, button = "Pay by card", f"Pay {amount}"
        summary = f'<p class="amount" data-testid="amount">{html.escape(amount)}</p>' + (
            f"<p>{html.escape(description)}</p>" if description else "")
    cards = "".join(f"<li><code>{number}</code> {outcome}</li>" for number, outcome in TEST_CARDS)
    alert = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    # The security code is never shown back, as on Stripe's page.
    value = {name: html.escape(form.get(name, "")) for name in ("card_number", "expiry", "name")}
    cancel = html.escape(session.get("cancel_url") or "/")
    body = f"""
{summary}
{alert}
<form method="post">
  <label>Card number <input name="card_number" inputmode="numeric" autocomplete="cc-number"
    value="{value['card_number']}" placeholder="4242 4242 4242 4242" required></label>
  <div class="row">
    <label>Expiry (MM/YY) <input name="expiry" autocomplete="cc-exp" value="{value['expiry']}" placeholder="12/34"
      required></label>
    <label>CVC <input name="cvc" inputmode="numeric" autocomplete="cc-csc" placeholder="123"
      required></label>
  </div>
  <label>Name on card <input name="name" autocomplete="cc-name" value="{value['name']}"></label>
  <button type="submit">{html.escape(button)}</button>
</form>
<p><a href="{cancel}">Cancel and return</a></p>
<details open><summary>Test cards</summary><ul>{cards}</ul>
<p>Any future expiry and any 3-digit CVC.</p></details>"""
    return _page(heading, body)


def _page(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} · Stripe test mode stand-in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; background: #f6f8fa; color: #1a1f36; margin: 0; }}
.banner {{ background: #ffb020; color: #1a1f36; padding: .6rem 1rem; font-weight: 600; text-align: center; }}
main {{ max-width: 28rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 8px;
        box-shadow: 0 2px 8px rgba(0,0,0,.08); }}
label {{ display: block; margin: .8rem 0; font-size: .9rem; }}
input {{ display: block; width: 100%; box-sizing: border-box; padding: .5rem; margin-top: .25rem; font-size: 1rem; }}
.row {{ display: flex; gap: 1rem; }} .row label {{ flex: 1; }}
button {{ width: 100%; padding: .7rem; margin-top: .8rem; background: #635bff; color: #fff; border: 0;
          border-radius: 6px; font-size: 1rem; cursor: pointer; }}
.amount {{ font-size: 1.8rem; font-weight: 700; margin: .2rem 0; }}
.error {{ background: #fde8e8; color: #9b1c1c; padding: .6rem; border-radius: 6px; }}
code {{ background: #eef; padding: 0 .2rem; }} details {{ font-size: .85rem; color: #555; }}
</style></head><body>
<div class="banner" role="note">Stripe test mode stand-in — test data, no real card is charged</div>
<main><h1>{html.escape(title)}</h1>{body}</main>
</body></html>"""


def _html(status: int, page: str) -> Response:
    return status, "text/html; charset=utf-8", page.encode(), {}


def _json(status: int, data: dict[str, Any]) -> Response:
    return status, "application/json", json.dumps(data).encode(), {}


# --- Control, from another process -----------------------------------------------------------------------------

def webhook_url_send(base_url: str, webhook_url: str) -> None:
    """Tell a running fake where to send its webhooks (what `./dev up` does once the endpoint exists)."""
    request = urllib.request.Request(f"{base_url}/_fake/webhook-url", data=urlencode({"url": webhook_url}).encode(),
                                     headers={"Authorization": f"Bearer {TEST_SECRET_KEY}"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.stripe_fake_server",
                                     description="A local stand-in for Stripe's API, Checkout and webhooks.")
    parser.add_argument("--port", type=int, default=DEV_PORT)
    parser.add_argument("--state", type=Path, default=None, help="JSON file the objects are kept in")
    parser.add_argument("--webhook-url", default=os.environ.get("STRIPE_FAKE_WEBHOOK_URL") or None)
    parser.add_argument("--webhook-secret", default=os.environ.get("STRIPE_WEBHOOK_SECRET") or WEBHOOK_SECRET)
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[stripe-fake] %(message)s", stream=sys.stderr)
    server = FakeStripeServer(port=options.port, webhook_url=options.webhook_url,
                              webhook_secret=options.webhook_secret, state_path=options.state)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    server.start()
    logger.info("listening on %s (test data only; cards: %s ok, %s declined, %s authentication)", server.url,
                CARD_OK, CARD_DECLINED, CARD_AUTHENTICATION)
    stopped.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
