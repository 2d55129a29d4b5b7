"""Stripe's side of the wire, offline (tests, benchmarks, `./dev up` without keys): a small stateful fake of
Stripe's HTTP API on 127.0.0.1, which the real `stripe` SDK and dj-stripe talk to (STRIPE_API_BASE and
stripe.api_base point at it), and helpers to build, sign and deliver webhook events to dj-stripe's real endpoint.

- A POST that creates takes the resource's object from tests/fixtures/stripe/fixtures3.json (Stripe's own
  OpenAPI fixtures), cleared of the fixture's sample values, gives it a fresh id with Stripe's prefix (cus_, pi_,
  cs_test_, seti_, pm_, re_, ch_, evt_, ...), overlays the form-encoded parameters (nested `metadata[x]`,
  `line_items[0][price_data][...]`) and keeps it; a GET retrieves it (`expand[]` honoured for the objects it
  has), a POST to an existing id updates it, and lists filter by customer, charge or payment intent.
- An `Idempotency-Key` seen before replays the first response (with another path or other parameters it is a
  400 idempotency_error, as at Stripe).
- Confirming a PaymentIntent charges its payment method by the card's last four digits: CARD_OK (4242)
  succeeds, CARD_DECLINED (0002) fails with a card_error (last_payment_error, a failed charge) and
  CARD_AUTHENTICATION (3184) needs the cardholder: off-session it is declined with authentication_required (the
  intent back to requires_payment_method, as Stripe does), on-session it ends requires_action with a next_action.
- `checkout_complete` plays the customer on a Checkout page: in setup mode a card is saved through a succeeded
  SetupIntent; in payment mode a PaymentIntent with the session's amount and `payment_intent_data` is paid.
- `event(type, object)` builds an event around the object as the fake holds it now (and keeps it, so a
  retrieve_event validation can fetch it); `webhook_post` signs it as Stripe does (Stripe-Signature
  t=<timestamp>,v1=HMAC-SHA256 of "<timestamp>.<payload>" with the endpoint secret) and posts it to dj-stripe's
  endpoint through Django's test client.
- With a webhook sink (`./dev up` and the browser tests, through devtools/stripe_fake_server.py) the fake also
  sends the events Stripe would on its own: customer.updated when a customer changes, payment_intent.succeeded /
  .payment_failed / .requires_action after a confirmation, payment_method.attached / .detached, setup_intent.succeeded
  and checkout.session.completed when a Checkout page is completed, charge.refunded. Without one (the unit tests)
  it sends nothing and each test delivers the events it means to.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "stripe" / "fixtures3.json"
# dj-stripe checks the key's form: sk_test_ and at least 24 letters or digits.
TEST_SECRET_KEY = "sk_test_tollgateFakeStripeKey0000000000"
WEBHOOK_SECRET = "whsec_tollgateTestWebhookSecret"
API_VERSION = "2026-08-26.dahlia"
ACCOUNT_ID = "acct_1TollgateFake0001"

CARD_OK = "4242"
CARD_DECLINED = "0002"
CARD_AUTHENTICATION = "3184"

# path segment -> (fixture name, id prefix)
RESOURCES: dict[str, tuple[str, str]] = {
    "customers": ("customer", "cus_"),
    "payment_intents": ("payment_intent", "pi_"),
    "checkout/sessions": ("checkout.session", "cs_test_"),
    "setup_intents": ("setup_intent", "seti_"),
    "payment_methods": ("payment_method", "pm_"),
    "refunds": ("refund", "re_"),
    "charges": ("charge", "ch_"),
    "events": ("event", "evt_"),
    "billing_portal/sessions": ("billing_portal.session", "bps_"),
    "webhook_endpoints": ("webhook_endpoint", "we_"),
    "disputes": ("dispute", "dp_"),
    "transfers": ("transfer", "tr_"),
}
# The fixtures' sample values that a new object must not carry (a discount, a canceled_at, an error...).
CLEARED: dict[str, dict[str, Any]] = {
    "customer": {"discount": None, "email": None, "name": None, "description": None, "default_source": None,
                 "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None,
                                      "rendering_options": None},
                 "shipping": None, "address": None, "metadata": {}},
    "payment_intent": {"canceled_at": None, "last_payment_error": None, "next_action": None, "processing": None,
                       "transfer_data": None, "payment_method_configuration_details": None, "customer": None,
                       "payment_method": None, "latest_charge": None, "amount_received": 0, "shipping": None,
                       "amount_details": None, "automatic_payment_methods": None, "managed_payments": None,
                       "status": "requires_payment_method", "metadata": {}, "description": None},
    "checkout.session": {"after_expiration": None, "shipping_cost": None, "total_details": None,
                         "shipping_address_collection": None, "shipping_options": [], "invoice_creation": None,
                         "custom_text": None, "consent_collection": None, "consent": None, "customer_details": None,
                         "payment_method_configuration_details": None, "saved_payment_method_options": None,
                         "payment_intent": None, "setup_intent": None, "customer": None, "subscription": None,
                         "amount_total": None, "amount_subtotal": None, "currency": None, "status": "open",
                         "payment_status": "unpaid", "metadata": {}},
    "setup_intent": {"last_setup_error": None, "next_action": None, "payment_method_configuration_details": None,
                     "customer": None, "payment_method": None, "status": "requires_payment_method", "metadata": {}},
    "payment_method": {"customer": None, "metadata": {}},
    "charge": {"balance_transaction": None, "invoice": None, "review": None, "source_transfer": None,
               "application": None, "application_fee": None, "transfer_data": None, "on_behalf_of": None,
               "customer": None, "payment_intent": None, "payment_method": None, "source": None, "metadata": {},
               "amount_refunded": 0, "refunded": False, "captured": True, "shipping": None, "failure_code": None,
               "failure_message": None},
    "refund": {"charge": None, "payment_intent": None, "balance_transaction": None, "metadata": {},
               "destination_details": None, "status": "succeeded"},
    "event": {"request": {"id": None, "idempotency_key": None}, "pending_webhooks": 1},
    "dispute": {"charge": None, "payment_intent": None, "balance_transactions": [], "metadata": {},
                "status": "needs_response"},
    "transfer": {"balance_transaction": None, "description": None, "destination": None, "destination_payment": None,
                 "metadata": {}, "amount_reversed": 0, "reversed": False, "source_transaction": None,
                 "transfer_group": None},
}
# Form parameters that are instructions, not fields of the object.
INSTRUCTIONS = {"expand", "confirm", "off_session", "line_items", "payment_intent_data", "setup_intent_data",
                "payment_method_types", "limit", "starting_after", "ending_before"}
LIST_FILTERS = ("customer", "charge", "payment_intent", "type")


class FakeStripeError(Exception):
    def __init__(self, status: int, error: dict[str, Any]):
        super().__init__(error.get("message", ""))
        self.status = status
        self.error = error


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    replayed: bool = False


@dataclass
class FakeStripe:
    """Stripe's state for one test: objects by id, the idempotency keys seen, and every request received."""

    fixtures: dict[str, dict[str, Any]]
    base_url: str = ""
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotent: dict[str, tuple[str, str, dict[str, Any], int, dict[str, Any]]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    failures: list[tuple[int, str | None]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    # Where the events Stripe would send on its own go (None: nowhere, and none is built), and what to call after
    # a change (saving the state file). Both are called with the lock held and must not block.
    webhook_sink: Callable[[dict[str, Any]], None] | None = None
    on_change: Callable[[], None] | None = None

    def reset(self) -> None:
        with self.lock:
            self.objects.clear()
            self.idempotent.clear()
            self.requests.clear()
            self.failures.clear()
            account = copy.deepcopy(self.fixtures["account"])
            account.update({"id": ACCOUNT_ID, "email": "ops@tollgate.test", "external_accounts": None})
            self.objects[ACCOUNT_ID] = account

    # --- What tests look at -----------------------------------------------------------------------------------

    def of_type(self, object_name: str) -> list[dict[str, Any]]:
        with self.lock:
            return [copy.deepcopy(obj) for obj in self.objects.values() if obj.get("object") == object_name]

    def get(self, object_id: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.objects[object_id])

    def creates(self, path: str) -> list[Recorded]:
        """POSTs that created an object at `path` (replays of an idempotency key excluded)."""
        return [r for r in self.requests if r.method == "POST" and r.path == path and not r.replayed]

    def fail_next(self, count: int = 1, *, status: int = 500, path: str | None = None) -> None:
        """Answer the next `count` requests (to `path`, if given) with `status`: Stripe down."""
        self.failures.extend([(status, path)] * count)

    # --- What tests do as the customer or as Stripe ----------------------------------------------------------

    def card_attach(self, customer_id: str, last4: str = CARD_OK, *, default: bool = True) -> dict[str, Any]:
        """A card saved on the customer (as a completed setup would leave it), optionally its default."""
        with self.lock:
            card = self._payment_method_new(last4)
            card["customer"] = customer_id
            if default:
                self.objects[customer_id]["invoice_settings"]["default_payment_method"] = card["id"]
            return copy.deepcopy(card)

    def checkout_complete(self, session_id: str, *, last4: str = CARD_OK) -> dict[str, Any]:
        """The customer filled in a card on the Checkout page and submitted it."""
        with self.lock:
            session = self.objects[session_id]
            card = self._payment_method_new(last4)
            card["customer"] = session["customer"]
            if session["mode"] == "setup":
                setup = self._new("setup_intent", "seti_")
                setup.update({"customer": session["customer"], "payment_method": card["id"], "status": "succeeded",
                              "usage": "off_session", "metadata": dict(session.get("_setup_intent_data", {})
                                                                       .get("metadata", {}))})
                session["setup_intent"] = setup["id"]
                self._emit("setup_intent.succeeded", setup["id"])
                self._emit("payment_method.attached", card["id"])
            else:
                intent_data = session.get("_payment_intent_data", {})
                intent = self._new("payment_intent", "pi_")
                intent.update({"amount": session["amount_total"], "currency": session["currency"],
                               "customer": session["customer"], "payment_method": card["id"],
                               "metadata": dict(intent_data.get("metadata", {})),
                               "description": intent_data.get("description"),
                               "setup_future_usage": intent_data.get("setup_future_usage")})
                # On the page the cardholder is present: a bank that asks for authentication gets it.
                self._confirm(intent, off_session=False, authenticated=True)
                session["payment_intent"] = intent["id"]
                session["payment_status"] = "paid" if intent["status"] == "succeeded" else "unpaid"
                if intent.get("setup_future_usage"):
                    self._emit("payment_method.attached", card["id"])
            session["status"] = "complete"
            self._emit("checkout.session.completed", session_id)
            self._changed()
            return copy.deepcopy(session)

    def payment_intent_authenticate(self, payment_intent_id: str) -> dict[str, Any]:
        """The cardholder completed the bank's challenge of an intent that required action: it succeeds."""
        with self.lock:
            intent = self.objects[payment_intent_id]
            intent["next_action"] = None
            self._charge(intent, succeeded=True)
            self._intent_emit(intent)
            self._changed()
            return copy.deepcopy(intent)

    def update(self, object_id: str, **fields) -> dict[str, Any]:
        """Change an object as Stripe would have (a test's shortcut for what happens on Stripe's side)."""
        with self.lock:
            self.objects[object_id].update(copy.deepcopy(fields))
            return copy.deepcopy(self.objects[object_id])

    def event(self, event_type: str, object_id: str | None = None, *, data_object: dict[str, Any] | None = None,
              previous_attributes: dict[str, Any] | None = None, created: int | None = None) -> dict[str, Any]:
        """An event about the object as the fake holds it now (or `data_object` as given), kept so it can be
        retrieved."""
        with self.lock:
            event = self._new("event", "evt_")
            obj = copy.deepcopy(data_object if data_object is not None else self.objects[object_id])
            event.update({"type": event_type, "api_version": API_VERSION, "created": created or int(time.time()),
                          "data": {"object": obj}, "livemode": False})
            if previous_attributes is not None:
                event["data"]["previous_attributes"] = previous_attributes
            return copy.deepcopy(event)

    def refund_fail(self, refund_id: str, *, reason: str = "expired_or_canceled_card") -> dict[str, Any]:
        """The bank could not put a refund back on the card: the refund fails and the charge gets its amount back
        (as Stripe does, days after it first said pending or succeeded)."""
        with self.lock:
            refund = self.objects[refund_id]
            charge = self.objects[refund["charge"]]
            refund.update({"status": "failed", "failure_reason": reason})
            charge["amount_refunded"] -= refund["amount"]
            charge["refunded"] = False
            return copy.deepcopy(refund)

    def dispute_open(self, charge_id: str, *, reason: str = "fraudulent",
                     status: str = "needs_response") -> dict[str, Any]:
        """The cardholder's bank disputes a charge (the whole amount, as most chargebacks do)."""
        with self.lock:
            charge = self.objects[charge_id]
            dispute = self._new("dispute", "dp_")
            dispute.update({"charge": charge_id, "payment_intent": charge.get("payment_intent"),
                            "amount": charge["amount"], "currency": charge["currency"], "reason": reason,
                            "status": status, "is_charge_refundable": False})
            dispute["evidence_details"]["due_by"] = int(time.time()) + 7 * 86400
            charge["disputed"] = True
            return copy.deepcopy(dispute)

    def dispute_close(self, dispute_id: str, *, won: bool) -> dict[str, Any]:
        """The bank decided: `won` for the merchant (the money stays with us), else lost."""
        with self.lock:
            dispute = self.objects[dispute_id]
            dispute["status"] = "won" if won else "lost"
            return copy.deepcopy(dispute)

    # --- The HTTP API --------------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: str, body: str, headers: dict[str, str]) -> tuple[int, Any]:
        authorization = headers.get("authorization", "")
        if authorization != f"Bearer {TEST_SECRET_KEY}":
            return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}}
        params = form_decode(body if method == "POST" else query)
        key = headers.get("idempotency-key") if method == "POST" else None
        with self.lock:
            if self.failures and self.failures[0][1] in (None, path):
                status, _ = self.failures.pop(0)
                return status, {"error": {"type": "api_error", "message": "The fake is down."}}
            if key and key in self.idempotent:
                first_path, first_method, first_params, status, response = self.idempotent[key]
                if (first_path, first_method, first_params) != (path, method, params):
                    return 400, {"error": {"type": "idempotency_error", "message": "Keys for idempotent requests "
                                           "can only be used with the same parameters they were first used with."}}
                self.requests.append(Recorded(method, path, params, key, replayed=True))
                return status, copy.deepcopy(response)
            self.requests.append(Recorded(method, path, params, key))
            try:
                status, response = 200, self._route(method, path, params)
            except FakeStripeError as error:
                status, response = error.status, {"error": error.error}
            if key:
                self.idempotent[key] = (path, method, params, status, copy.deepcopy(response))
            if method != "GET":
                self._changed()
            return status, response

    def _route(self, method: str, path: str, params: dict[str, Any]) -> Any:
        parts = path.strip("/").split("/")
        if parts[0] != "v1":
            raise _missing(path)
        parts = parts[1:]
        if parts == ["account"] and method == "GET":
            return self._expanded(self.objects[ACCOUNT_ID], params)
        if parts[:1] == ["customers"] and len(parts) == 3 and parts[2] == "payment_methods":
            return self._list([o for o in self.objects.values()
                               if o.get("object") == "payment_method" and o.get("customer") == parts[1]], path)
        if parts[:1] == ["payment_intents"] and len(parts) == 3 and parts[2] == "confirm":
            intent = self._existing(parts[1], "payment_intent")
            self._apply(intent, params)
            self._confirm(intent, off_session=_truthy(params.get("off_session")))
            return self._payment_intent_answer(intent, params)
        if parts[:1] == ["payment_methods"] and len(parts) == 3 and parts[2] in {"attach", "detach"}:
            card = self._existing(parts[1], "payment_method")
            card["customer"] = params.get("customer") if parts[2] == "attach" else None
            self._emit(f"payment_method.{parts[2]}ed", card["id"])
            return self._expanded(card, params)
        resource, object_id = _resource_of(parts)
        if resource is None:
            raise _missing(path)
        fixture_name, prefix = RESOURCES[resource]
        if object_id is None and method == "POST":
            return self._create(fixture_name, prefix, params)
        if object_id is None:
            filters = {name: params[name] for name in LIST_FILTERS if name in params}
            matches = [o for o in self.objects.values() if o.get("object") == self.fixtures[fixture_name]["object"]
                       and all(o.get(name) == value for name, value in filters.items())]
            return self._list(matches, "/" + "/".join(["v1", resource]))
        obj = self._existing(object_id, self.fixtures[fixture_name]["object"])
        if method == "POST":
            before = copy.deepcopy(obj)
            self._apply(obj, params)
            if obj["object"] == "customer":
                self._updated_emit(obj, before)
        return self._expanded(obj, params)

    def _create(self, fixture_name: str, prefix: str, params: dict[str, Any]) -> dict[str, Any]:
        obj = self._new(fixture_name, prefix)
        if fixture_name == "checkout.session":
            return self._session_create(obj, params)
        if fixture_name == "refund":
            return self._refund_create(obj, params)
        if fixture_name == "payment_method":
            params = self._card_number_read(obj, params)
        self._apply(obj, params)
        if fixture_name == "billing_portal.session":
            obj["url"] = f"{self.base_url}/portal/{obj['id']}"
        if fixture_name == "payment_intent":
            obj["amount_received"] = 0
            if _truthy(params.get("confirm")):
                self._confirm(obj, off_session=_truthy(params.get("off_session")))
            return self._payment_intent_answer(obj, params)
        return self._expanded(obj, params)

    def _session_create(self, session: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        self._apply(session, params)
        session["url"] = f"{self.base_url}/checkout/{session['id']}"
        session["_payment_intent_data"] = params.get("payment_intent_data") or {}
        session["_setup_intent_data"] = params.get("setup_intent_data") or {}
        items = params.get("line_items") or []
        if session["mode"] == "payment":
            if not items:
                raise _invalid("line_items", "You must provide line_items in payment mode.")
            session["amount_total"] = session["amount_subtotal"] = sum(
                int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1)) for item in items)
            session["currency"] = items[0]["price_data"]["currency"]
        return self._public(session)

    def _refund_create(self, refund: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        intent = self._existing(params.get("payment_intent") or "", "payment_intent")
        charge = self.objects.get(intent.get("latest_charge") or "")
        if intent["status"] != "succeeded" or charge is None:
            raise _invalid("payment_intent", "This PaymentIntent has no successful charge to refund.")
        refundable = charge["amount"] - charge["amount_refunded"]
        amount = int(params.get("amount", refundable))
        if amount > refundable:
            raise _invalid("amount", "Refund amount is greater than the amount refundable.")
        refund.update({"amount": amount, "currency": charge["currency"], "charge": charge["id"],
                       "payment_intent": intent["id"], "metadata": dict(params.get("metadata") or {}),
                       "status": "succeeded"})
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self._emit("charge.refunded", charge["id"])
        return self._public(refund)

    def _payment_intent_answer(self, intent: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        error = intent.get("last_payment_error")
        if intent["status"] == "requires_payment_method" and error:
            raise FakeStripeError(402, {**error, "payment_intent": self._public(intent)})
        return self._expanded(intent, params)

    def _confirm(self, intent: dict[str, Any], *, off_session: bool, authenticated: bool = False) -> None:
        card = self.objects.get(intent.get("payment_method") or "")
        if card is None:
            raise _invalid("payment_method", "You must provide a payment method to confirm this PaymentIntent.")
        last4 = card["card"]["last4"]
        intent["last_payment_error"], intent["next_action"] = None, None
        if last4 == CARD_DECLINED:
            charge = self._charge(intent, succeeded=False)
            intent["last_payment_error"] = {
                "type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
                "message": "Your card was declined.", "charge": charge["id"], "payment_method": copy.deepcopy(card)}
            intent["status"] = "requires_payment_method"
        elif last4 == CARD_AUTHENTICATION and not authenticated and off_session:
            intent["last_payment_error"] = {
                "type": "card_error", "code": "authentication_required", "decline_code": "authentication_required",
                "message": "Your card was declined. This transaction requires authentication.",
                "payment_method": copy.deepcopy(card)}
            intent["status"] = "requires_payment_method"
        elif last4 == CARD_AUTHENTICATION and not authenticated:
            intent["status"] = "requires_action"
            intent["next_action"] = {"type": "redirect_to_url", "redirect_to_url": {
                "url": f"{self.base_url}/authenticate/{intent['id']}", "return_url": None}}
        else:
            self._charge(intent, succeeded=True)
        self._intent_emit(intent)

    def _charge(self, intent: dict[str, Any], *, succeeded: bool) -> dict[str, Any]:
        charge = self._new("charge", "ch_")
        charge.update({"amount": intent["amount"], "currency": intent["currency"], "customer": intent.get("customer"),
                       "payment_intent": intent["id"], "payment_method": intent.get("payment_method"),
                       "paid": succeeded, "status": "succeeded" if succeeded else "failed",
                       "amount_captured": intent["amount"] if succeeded else 0,
                       "failure_code": None if succeeded else "card_declined",
                       "failure_message": None if succeeded else "Your card was declined."})
        intent["latest_charge"] = charge["id"]
        if succeeded:
            intent["status"], intent["amount_received"] = "succeeded", intent["amount"]
        return charge

    def _card_number_read(self, card: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        """A card created with card[number] ends in that number's last four digits, as at Stripe (which never
        sends the number back): the test cards' behaviours (CARD_DECLINED, CARD_AUTHENTICATION) follow."""
        details = dict(params.get("card") or {})
        number = str(details.pop("number", "")).replace(" ", "")
        if not number:
            return params
        details.pop("cvc", None)
        details.update({key: int(details[key]) for key in ("exp_month", "exp_year") if key in details})
        last4 = number[-4:]
        card["card"] = {**card["card"], "last4": last4, "fingerprint": f"fp{last4}", "wallet": None,
                        "generated_from": None, "networks": None}
        return {**params, "card": details}

    def _payment_method_new(self, last4: str) -> dict[str, Any]:
        card = self._new("payment_method", "pm_")
        card["card"] = {**card["card"], "last4": last4, "fingerprint": f"fp{last4}", "wallet": None,
                        "generated_from": None, "networks": None}
        card["billing_details"]["email"] = None
        return card

    # --- The events Stripe sends on its own ---------------------------------------------------------------------

    def _emit(self, event_type: str, object_id: str, *, previous_attributes: dict[str, Any] | None = None) -> None:
        if self.webhook_sink is not None:
            self.webhook_sink(self.event(event_type, object_id, previous_attributes=previous_attributes))

    def _intent_emit(self, intent: dict[str, Any]) -> None:
        if intent["status"] == "succeeded":
            self._emit("payment_intent.succeeded", intent["id"])
        elif intent["status"] == "requires_action":
            self._emit("payment_intent.requires_action", intent["id"])
        elif intent.get("last_payment_error"):
            self._emit("payment_intent.payment_failed", intent["id"])

    def _updated_emit(self, obj: dict[str, Any], before: dict[str, Any]) -> None:
        """<object>.updated with the previous values of the top-level fields that changed, as Stripe sends it."""
        previous = {name: value for name, value in before.items() if obj.get(name) != value}
        if previous:
            self._emit(f"{obj['object']}.updated", obj["id"], previous_attributes=previous)

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    # --- Objects ---------------------------------------------------------------------------------------------------

    def _new(self, fixture_name: str, prefix: str) -> dict[str, Any]:
        obj = copy.deepcopy(self.fixtures[fixture_name])
        obj.update(copy.deepcopy(CLEARED.get(fixture_name, {})))
        obj["id"] = prefix + secrets.token_hex(12)
        obj["created"] = int(time.time())
        obj["livemode"] = False
        self.objects[obj["id"]] = obj
        return obj

    def _existing(self, object_id: str, object_name: str) -> dict[str, Any]:
        obj = self.objects.get(object_id)
        if obj is None or obj.get("object") != object_name:
            raise FakeStripeError(404, {"type": "invalid_request_error", "code": "resource_missing", "param": "id",
                                        "message": f"No such {object_name}: '{object_id}'"})
        return obj

    def _apply(self, obj: dict[str, Any], params: dict[str, Any]) -> None:
        for name, value in params.items():
            if name in INSTRUCTIONS:
                continue
            if name == "metadata":
                obj["metadata"] = {**(obj.get("metadata") or {}), **{k: str(v) for k, v in (value or {}).items()}}
            elif isinstance(value, dict) and isinstance(obj.get(name), dict):
                obj[name] = _merged(obj[name], value)
            else:
                obj[name] = value
        if obj.get("object") in ("payment_intent", "transfer"):
            obj["amount"] = int(obj["amount"])

    def _expanded(self, obj: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        public = self._public(obj)
        for path in _expand_paths(params):
            _expand(public, path.split("."), self.objects, self._public)
        return public

    def _list(self, items: list[dict[str, Any]], url: str) -> dict[str, Any]:
        return {"object": "list", "url": url, "has_more": False, "data": [self._public(i) for i in items]}

    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}


# --- Helpers -----------------------------------------------------------------------------------------------------

def fixtures_load() -> dict[str, dict[str, Any]]:
    return json.loads(FIXTURES.read_text())["resources"]


def form_decode(encoded: str) -> dict[str, Any]:
    """Stripe's form encoding back into nested data: a[b][c]=1 and a[0][b]=2; numbers and booleans outside
    metadata become ints and bools, as the API reads them."""
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(encoded, keep_blank_values=True):
        tokens = re.findall(r"[^\[\]]+|\[\]", raw_key)
        keys = [token if token != "[]" else "" for token in tokens]
        node = root
        for depth, name in enumerate(keys):
            name = name or str(sum(1 for k in node if k.isdigit()))
            if depth == len(keys) - 1:
                node[name] = value if keys[0] == "metadata" or "metadata" in keys else _typed(value)
            else:
                node = node.setdefault(name, {})
    return _lists(root)


def _typed(value: str) -> Any:
    if re.fullmatch(r"-?\d+", value):
        return int(value)
    if value in {"true", "false"}:
        return value == "true"
    return value


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _lists(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def _merged(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        merged[key] = _merged(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) \
            else value
    return merged


def _truthy(value: Any) -> bool:
    return value is True or value == "true"


def _expand_paths(params: dict[str, Any]) -> list[str]:
    expand = params.get("expand") or []
    return list(expand.values()) if isinstance(expand, dict) else list(expand)


def _expand(node: Any, path: list[str], objects: dict[str, dict[str, Any]], public) -> None:
    if not isinstance(node, dict) or not path:
        return
    head, rest = path[0], path[1:]
    value = node.get(head)
    if not rest:
        if isinstance(value, str) and value in objects:
            node[head] = public(objects[value])
        return
    if head == "data" and isinstance(value, list):
        for item in value:
            _expand(item, rest, objects, public)
    else:
        _expand(value, rest, objects, public)


def _resource_of(parts: list[str]) -> tuple[str | None, str | None]:
    for length in (2, 1):
        resource = "/".join(parts[:length])
        if resource in RESOURCES and len(parts) in (length, length + 1):
            return resource, parts[length] if len(parts) == length + 1 else None
    return None, None


def _missing(path: str) -> FakeStripeError:
    return FakeStripeError(404, {"type": "invalid_request_error", "message": f"Unrecognized request URL: {path}"})


def _invalid(param: str, message: str) -> FakeStripeError:
    return FakeStripeError(400, {"type": "invalid_request_error", "param": param, "message": message})


# --- The server ----------------------------------------------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    fake: FakeStripe
    site: Any  # devtools.stripe_fake_server.FakeStripeSite: the pages a browser opens, and the control endpoint
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._answer("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._answer("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._answer("DELETE")

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        url = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        if not url.path.startswith("/v1/"):
            self._send(*self.site.handle(method, url.path, url.query, body, headers))
            return
        status, response = self.fake.handle(method, url.path, url.query, body, headers)
        self._send(status, "application/json", json.dumps(response).encode(),
                   {"Request-Id": f"req_{secrets.token_hex(6)}"})

    def _send(self, status: int, content_type: str, payload: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class FakeStripeServer:
    """The fake on 127.0.0.1 (a random port unless `port` is given), served by a thread per connection until
    stop(), with its hosted pages (Checkout, the customer portal). Given a `webhook_url` (or one later through
    the site's control endpoint) it sends Stripe's events there, signed with `webhook_secret`; given a
    `state_path` it keeps its objects in that file across restarts."""

    def __init__(self, *, port: int = 0, webhook_url: str | None = None, webhook_secret: str = WEBHOOK_SECRET,
                 state_path: Path | None = None):
        # Imported here: the site module builds on this one.
        from devtools.stripe_fake_server import FakeStripeSite

        self.fake = FakeStripe(fixtures=fixtures_load())
        self.site = FakeStripeSite(self.fake, webhook_secret=webhook_secret, state_path=state_path)
        handler = type("FakeStripeHandler", (_Handler,), {"fake": self.fake, "site": self.site})
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
        self.fake.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-stripe", daemon=True)
        self.webhook_url = webhook_url

    @property
    def url(self) -> str:
        return self.fake.base_url

    def start(self) -> FakeStripeServer:
        self.fake.reset()
        self.site.start(webhook_url=self.webhook_url)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.site.stop()


# --- Webhooks ------------------------------------------------------------------------------------------------------

def signature_header(payload: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """Stripe-Signature for `payload`: t=<unix time>,v1=<hex HMAC-SHA256 of "t.payload" with the secret>."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signed}"


def webhook_post(client, endpoint, event: dict[str, Any], *, secret: str = WEBHOOK_SECRET,
                 timestamp: int | None = None, signature: str | None = None):
    """POST `event` to dj-stripe's endpoint on the public host, signed as Stripe signs it (or with `signature`
    as given), through a Django test client of the public host."""
    from django.urls import reverse

    payload = json.dumps(event)
    path = reverse("djstripe:djstripe_webhook_by_uuid", kwargs={"uuid": endpoint.djstripe_uuid},
                   urlconf="config.urls_public")
    header = signature if signature is not None else signature_header(payload, secret=secret, timestamp=timestamp)
    return client.post(path, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
