"""The fake Stripe as `./dev up` runs it: its hosted Checkout page, the webhooks it sends on its own (signed,
retried), the control endpoint that tells it where, and the state file that outlives a restart. No database."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from devtools.stripe_fake import TEST_SECRET_KEY, WEBHOOK_SECRET, FakeStripeServer

AUTH = {"Authorization": f"Bearer {TEST_SECRET_KEY}"}
GOOD_CARD = {"card_number": "4242 4242 4242 4242", "expiry": "12/49", "cvc": "123"}
DECLINED_CARD = {**GOOD_CARD, "card_number": "4000 0000 0000 0002"}


class Receiver:
    """A webhook endpoint on 127.0.0.1 that records what it is sent and answers `statuses` in turn (then 200)."""

    def __init__(self, statuses: list[int] | None = None):
        self.received: list[tuple[dict, str]] = []
        self.statuses = list(statuses or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if status == 200:
                    receiver.received.append((json.loads(body), body, self.headers["Stripe-Signature"]))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stripe/webhook/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def types(self) -> list[str]:
        return [event["type"] for event, _, _ in self.received]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


def fake_server(**options) -> FakeStripeServer:
    server = FakeStripeServer(**options)
    server.site.delivery.pauses = (0.05, 0.05, 0.05)
    return server.start()


@pytest.fixture
def server(receiver) -> Iterator[FakeStripeServer]:
    server = fake_server(webhook_url=receiver.url)
    yield server
    server.stop()


def api(server: FakeStripeServer, path: str, **params) -> dict:
    response = httpx.post(f"{server.url}/v1/{path}", data=params, headers=AUTH)
    return response.json()


def session_create(server: FakeStripeServer, mode: str) -> dict:
    customer = api(server, "customers", email="owner@alpha.test")
    params = {"mode": mode, "customer": customer["id"], "cancel_url": "http://alpha.localhost/cancel",
              "success_url": "http://alpha.localhost/ok?s={CHECKOUT_SESSION_ID}"}
    if mode == "payment":
        params.update({"line_items[0][price_data][currency]": "usd", "line_items[0][price_data][unit_amount]": "2500",
                       "line_items[0][price_data][product_data][name]": "Invoice ZW-1", "line_items[0][quantity]": "1",
                       "payment_intent_data[description]": "Invoice ZW-1"})
    return api(server, "checkout/sessions", **params)


def test_the_checkout_page_is_labelled_as_test_data_and_shows_the_amount(server):
    session = session_create(server, "payment")
    page = httpx.get(session["url"]).text
    assert "Stripe test mode stand-in — test data, no real card is charged" in page
    assert "25.00 USD" in page and "Invoice ZW-1" in page
    assert "4242 4242 4242 4242" in page and "http://alpha.localhost/cancel" in page


def test_the_checkout_page_of_a_setup_session_offers_to_save_a_card(server):
    page = httpx.get(session_create(server, "setup")["url"]).text
    assert "Save a card" in page and "Nothing is charged now" in page


def test_a_good_card_completes_the_session_and_returns_to_success_url_with_its_id(server):
    session = session_create(server, "payment")
    response = httpx.post(session["url"], data=GOOD_CARD)
    assert response.status_code == 303
    assert response.headers["Location"] == f"http://alpha.localhost/ok?s={session['id']}"
    completed = server.fake.get(session["id"])
    assert (completed["status"], completed["payment_status"]) == ("complete", "paid")


def test_a_declined_card_shows_the_error_and_leaves_the_session_open(server, receiver):
    session = session_create(server, "payment")
    response = httpx.post(session["url"], data=DECLINED_CARD)
    assert response.status_code == 402
    assert "Your card was declined" in response.text
    assert server.fake.get(session["id"])["status"] == "open"
    assert receiver.received == []


def test_an_invalid_card_number_is_refused_on_the_page(server):
    session = session_create(server, "setup")
    response = httpx.post(session["url"], data={**GOOD_CARD, "card_number": "4242 4242 4242 4241"})
    assert "Your card number is invalid" in response.text
    assert server.fake.get(session["id"])["status"] == "open"


def test_saving_a_card_sends_its_events_signed_with_the_endpoint_secret(server, receiver):
    session = session_create(server, "setup")
    httpx.post(session["url"], data=GOOD_CARD)
    assert receiver.types() == ["setup_intent.succeeded", "payment_method.attached", "checkout.session.completed"]
    for _, body, header in receiver.received:
        timestamp, signature = (part.split("=", 1)[1] for part in header.split(","))
        expected = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
        assert signature == expected


def test_paying_on_the_page_sends_payment_intent_succeeded_before_checkout_session_completed(server, receiver):
    httpx.post(session_create(server, "payment")["url"], data=GOOD_CARD)
    assert receiver.types() == ["payment_intent.succeeded", "checkout.session.completed"]


def test_an_off_session_charge_sends_its_payment_intent_event(server, receiver):
    customer = api(server, "customers", email="owner@alpha.test")
    for last4, expected in (("4242", "payment_intent.succeeded"), ("0002", "payment_intent.payment_failed")):
        card = server.fake.card_attach(customer["id"], last4)
        api(server, "payment_intents", amount="1000", currency="usd", customer=customer["id"],
            payment_method=card["id"], confirm="true", off_session="true")
        assert server.site.delivery.wait_idle(5)
        assert receiver.types()[-1] == expected


def test_changing_a_customers_default_card_sends_customer_updated_with_the_previous_value(server, receiver):
    customer = api(server, "customers", email="owner@alpha.test")
    card = server.fake.card_attach(customer["id"], default=False)
    api(server, f"customers/{customer['id']}", **{"invoice_settings[default_payment_method]": card["id"]})
    assert server.site.delivery.wait_idle(5)
    event = receiver.received[-1][0]
    assert event["type"] == "customer.updated"
    assert event["data"]["previous_attributes"]["invoice_settings"]["default_payment_method"] is None


def test_a_failed_delivery_is_retried_until_the_endpoint_takes_it(server, receiver):
    receiver.statuses = [500, 503]
    customer = api(server, "customers", email="owner@alpha.test")
    api(server, f"customers/{customer['id']}", name="Alpha")
    assert server.site.delivery.wait_idle(5)
    assert receiver.types() == ["customer.updated"]


def test_without_a_webhook_url_the_fake_builds_no_event():
    server = fake_server()
    try:
        customer = api(server, "customers", email="owner@alpha.test")
        api(server, f"customers/{customer['id']}", name="Alpha")
        assert server.fake.of_type("event") == []
    finally:
        server.stop()


def test_the_webhook_url_is_set_through_the_control_endpoint_with_the_secret_key(receiver):
    server = fake_server()
    try:
        refused = httpx.post(f"{server.url}/_fake/webhook-url", data={"url": receiver.url})
        assert refused.status_code == 401
        httpx.post(f"{server.url}/_fake/webhook-url", data={"url": receiver.url}, headers=AUTH).raise_for_status()
        customer = api(server, "customers", email="owner@alpha.test")
        api(server, f"customers/{customer['id']}", name="Alpha")
        assert server.site.delivery.wait_idle(5)
        assert receiver.types() == ["customer.updated"]
    finally:
        server.stop()


def test_the_state_file_keeps_saved_cards_and_idempotency_keys_across_a_restart(tmp_path):
    state = tmp_path / "stripe-fake.json"
    first = fake_server(state_path=state)
    try:
        customer = httpx.post(f"{first.url}/v1/customers", data={"email": "a@b.test"},
                              headers={**AUTH, "Idempotency-Key": "customer-1"}).json()
        card = first.fake.card_attach(customer["id"])
        api(first, f"customers/{customer['id']}", name="Alpha")
    finally:
        first.stop()
    second = fake_server(state_path=state)
    try:
        cards = httpx.get(f"{second.url}/v1/customers/{customer['id']}/payment_methods", headers=AUTH).json()
        assert [c["id"] for c in cards["data"]] == [card["id"]]
        replay = httpx.post(f"{second.url}/v1/customers", data={"email": "a@b.test"},
                            headers={**AUTH, "Idempotency-Key": "customer-1"}).json()
        assert replay["id"] == customer["id"]
    finally:
        second.stop()


def test_dev_runs_the_fake_as_a_process_whose_state_file_outlives_it(tmp_path):
    from config.dev import StripeFakeProcess, stripe_fake_answers
    from config.embedded import free_port

    state = tmp_path / "stripe-fake.json"
    port = free_port()
    process = StripeFakeProcess(port=port, state=state)
    try:
        process.wait_ready()
        customer = httpx.post(f"{process.url}/v1/customers", data={"email": "a@b.test"}, headers=AUTH).json()
    finally:
        process.stop()
    assert not stripe_fake_answers(process.url)
    assert customer["id"] in json.loads(state.read_text())["objects"]
