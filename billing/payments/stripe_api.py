"""The one boundary to Stripe's API: plain functions for the calls Tollgate makes (customers, Checkout sessions in
setup and payment mode, off-session PaymentIntents, refunds, the billing portal, Connect transfers for affiliates'
payouts), plain dataclasses out, and every Stripe failure turned into one of billing.payments.errors in one place
(`_stripe_errors`). Nothing else in Tollgate imports `stripe`; dj-stripe does, for the webhook endpoint and its
re-fetches, and `sdk_configure` points its global SDK settings at the same API.

Settings: STRIPE_SECRET_KEY (empty = Stripe off: invoices are collected manually, as in billing 1),
STRIPE_API_BASE (Stripe's API unless set; tests point it at devtools/stripe_fake.py), STRIPE_API_VERSION
(pinned) and STRIPE_MAX_NETWORK_RETRIES. Amounts go out and come back in the currency's minor units, converted by
config.money, never through a float. Every POST that moves money takes an idempotency key from the caller, so a
retried call (by the SDK after a network failure, or by a retried task) reaches the same Stripe object.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import stripe
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from billing.payments.errors import (
    CardAuthenticationRequired,
    CardDeclined,
    PaymentObjectMissing,
    PaymentProviderError,
    PaymentProviderUnavailable,
    PaymentsNotConfigured,
)
from config.money import Money, money_from_minor_units, money_to_minor_units

logger = logging.getLogger(__name__)

AUTHENTICATION_REQUIRED = "authentication_required"


# --- Plain data out of the SDK ----------------------------------------------------------------------------

@dataclass(frozen=True)
class StripeCustomer:
    id: str
    email: str
    name: str
    default_payment_method_id: str | None
    livemode: bool = False
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StripeCheckoutSession:
    id: str
    mode: str  # "setup" or "payment"
    status: str  # "open", "complete" or "expired"
    url: str | None
    customer_id: str | None
    payment_intent_id: str | None
    setup_intent_id: str | None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StripeSetupIntent:
    id: str
    status: str
    customer_id: str | None
    payment_method_id: str | None


@dataclass(frozen=True)
class StripePaymentIntent:
    """A PaymentIntent as Stripe has it. `amount` is what it asks for, `amount_received` what it collected."""

    id: str
    status: str
    amount: Money
    amount_received: Money
    customer_id: str | None
    payment_method_id: str | None
    latest_charge_id: str | None
    failure_code: str
    failure_message: str
    next_action_url: str | None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StripeRefund:
    id: str
    status: str
    amount: Money
    charge_id: str | None
    payment_intent_id: str | None
    metadata: dict[str, str] = field(default_factory=dict)
    failure_reason: str = ""


@dataclass(frozen=True)
class StripeDispute:
    """A chargeback as Stripe has it: `status` is Stripe's own (warning_* for an inquiry, won, lost...),
    `evidence_due_by` and `created` Unix times."""

    id: str
    status: str
    amount: Money
    charge_id: str | None
    payment_intent_id: str | None
    reason: str
    evidence_due_by: int | None
    created: int


@dataclass(frozen=True)
class StripeTransfer:
    """Money sent to a connected account (an affiliate's payout through Stripe Connect)."""

    id: str
    amount: Money
    destination: str
    reversed: bool
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StripePortalSession:
    id: str
    url: str


# --- Configuration --------------------------------------------------------------------------------------------

def stripe_enabled() -> bool:
    """Stripe collects invoices only with a secret key; without one everything is collected manually."""
    return bool(settings.STRIPE_SECRET_KEY)


def stripe_livemode() -> bool:
    """Whether the configured key is a live one (customers made with a test key are not used with it)."""
    return settings.STRIPE_SECRET_KEY.startswith(("sk_live_", "rk_live_"))


def sdk_configure() -> None:
    """Point the SDK's global settings, which dj-stripe's own calls use (the webhook re-fetches), at
    STRIPE_API_BASE. Called when billing is ready and whenever a test overrides the setting."""
    stripe.api_base = settings.STRIPE_API_BASE
    stripe.max_network_retries = settings.STRIPE_MAX_NETWORK_RETRIES


@receiver(setting_changed)
def _stripe_setting_changed(sender, setting: str, **kwargs) -> None:
    if setting in {"STRIPE_API_BASE", "STRIPE_MAX_NETWORK_RETRIES"}:
        sdk_configure()


def _client() -> stripe.StripeClient:
    if not stripe_enabled():
        raise PaymentsNotConfigured("Stripe is not configured (no STRIPE_SECRET_KEY): invoices are paid manually.")
    return _client_for(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE, settings.STRIPE_API_VERSION,
                       settings.STRIPE_MAX_NETWORK_RETRIES)


@lru_cache(maxsize=4)
def _client_for(api_key: str, api_base: str, api_version: str, max_network_retries: int) -> stripe.StripeClient:
    return stripe.StripeClient(api_key, base_addresses={"api": api_base}, stripe_version=api_version,
                               max_network_retries=max_network_retries)


@contextmanager
def _stripe_errors(operation: str) -> Iterator[None]:
    """The one place Stripe's exceptions become ours."""
    try:
        yield
    except stripe.CardError as error:
        body = (error.json_body or {}).get("error") or {}
        codes = {body.get("code"), body.get("decline_code")}
        decline_code = body.get("decline_code") or body.get("code") or "card_declined"
        intent = body.get("payment_intent")
        logger.info("stripe_card_declined operation=%s code=%s request_id=%s", operation, decline_code,
                    error.request_id)
        declined = CardAuthenticationRequired if AUTHENTICATION_REQUIRED in codes else CardDeclined
        raise declined(body.get("message") or "The card was declined.", decline_code=decline_code,
                       payment_intent=_payment_intent(intent) if intent else None) from error
    except (stripe.AuthenticationError, stripe.PermissionError) as error:
        logger.error("stripe_refused_key operation=%s request_id=%s", operation, error.request_id)
        raise PaymentsNotConfigured("Stripe refused the configured API key.") from error
    except (stripe.APIConnectionError, stripe.RateLimitError) as error:
        logger.warning("stripe_unavailable operation=%s error=%s", operation, type(error).__name__)
        raise PaymentProviderUnavailable("Stripe cannot be reached just now; try again later.") from error
    except stripe.InvalidRequestError as error:
        logger.warning("stripe_invalid_request operation=%s code=%s param=%s request_id=%s", operation, error.code,
                       error.param, error.request_id)
        if error.code == "resource_missing":
            raise PaymentObjectMissing(f"Stripe has no such object ({operation}).") from error
        raise PaymentProviderError(f"Stripe refused the request ({operation}): {error.user_message or error.code}.",
                                   details={"stripe_code": error.code or ""}) from error
    except stripe.StripeError as error:
        status = error.http_status or 0
        logger.warning("stripe_error operation=%s status=%s code=%s request_id=%s", operation, status, error.code,
                       error.request_id)
        if status >= 500 or isinstance(error, stripe.APIError):
            raise PaymentProviderUnavailable("Stripe failed to answer; try again later.") from error
        raise PaymentProviderError(f"Stripe refused the request ({operation}).",
                                   details={"stripe_code": error.code or ""}) from error


def _options(idempotency_key: str | None) -> dict[str, str]:
    return {"idempotency_key": idempotency_key} if idempotency_key else {}


# --- Calls ----------------------------------------------------------------------------------------------------

def customer_create(*, email: str, name: str, address: dict[str, str] | None, metadata: dict[str, str],
                    idempotency_key: str) -> StripeCustomer:
    params: dict[str, Any] = {"email": email, "name": name, "metadata": metadata}
    if address:
        params["address"] = address
    with _stripe_errors("customer_create"):
        return _customer(_client().v1.customers.create(params=params, options=_options(idempotency_key)))


def customer_update(customer_id: str, *, email: str | None = None, name: str | None = None,
                    address: dict[str, str] | None = None, default_payment_method_id: str | None = None,
                    idempotency_key: str | None = None) -> StripeCustomer:
    params: dict[str, Any] = {}
    if email is not None:
        params["email"] = email
    if name is not None:
        params["name"] = name
    if address:
        params["address"] = address
    if default_payment_method_id is not None:
        params["invoice_settings"] = {"default_payment_method": default_payment_method_id}
    with _stripe_errors("customer_update"):
        return _customer(_client().v1.customers.update(customer_id, params=params,
                                                       options=_options(idempotency_key)))


def customer_retrieve(customer_id: str) -> StripeCustomer:
    with _stripe_errors("customer_retrieve"):
        return _customer(_client().v1.customers.retrieve(customer_id))


def checkout_setup_session_create(*, customer_id: str, success_url: str, cancel_url: str,
                                  metadata: dict[str, str], idempotency_key: str) -> StripeCheckoutSession:
    """A hosted page where the customer saves a card for later off-session charges (Checkout in setup mode)."""
    params = {"mode": "setup", "customer": customer_id, "payment_method_types": ["card"],
              "success_url": success_url, "cancel_url": cancel_url, "metadata": metadata,
              "setup_intent_data": {"metadata": metadata}}
    with _stripe_errors("checkout_setup_session_create"):
        return _checkout_session(_client().v1.checkout.sessions.create(params=params,
                                                                       options=_options(idempotency_key)))


def checkout_payment_session_create(*, customer_id: str, amount: Money, description: str, success_url: str,
                                    cancel_url: str, metadata: dict[str, str],
                                    idempotency_key: str) -> StripeCheckoutSession:
    """A hosted page where the customer pays `amount` once, authenticating if the bank asks, and saves the card
    for later charges (Checkout in payment mode). The PaymentIntent it makes carries `metadata`."""
    params = {
        "mode": "payment", "customer": customer_id, "payment_method_types": ["card"],
        "line_items": [{"quantity": 1, "price_data": {"currency": amount.currency.lower(),
                                                      "unit_amount": money_to_minor_units(amount),
                                                      "product_data": {"name": description}}}],
        "payment_intent_data": {"metadata": metadata, "description": description,
                                "setup_future_usage": "off_session"},
        "success_url": success_url, "cancel_url": cancel_url, "metadata": metadata,
    }
    with _stripe_errors("checkout_payment_session_create"):
        return _checkout_session(_client().v1.checkout.sessions.create(params=params,
                                                                       options=_options(idempotency_key)))


def checkout_session_retrieve(session_id: str) -> StripeCheckoutSession:
    with _stripe_errors("checkout_session_retrieve"):
        return _checkout_session(_client().v1.checkout.sessions.retrieve(session_id))


def setup_intent_retrieve(setup_intent_id: str) -> StripeSetupIntent:
    with _stripe_errors("setup_intent_retrieve"):
        data = _plain(_client().v1.setup_intents.retrieve(setup_intent_id))
    return StripeSetupIntent(id=data["id"], status=data.get("status") or "",
                             customer_id=object_id(data.get("customer")),
                             payment_method_id=object_id(data.get("payment_method")))


def payment_intent_charge_off_session(*, customer_id: str, payment_method_id: str, amount: Money, description: str,
                                      metadata: dict[str, str], idempotency_key: str) -> StripePaymentIntent:
    """Create and confirm a PaymentIntent on a saved card with the customer absent. Returns it succeeded or
    processing (or requiring action); a decline raises CardDeclined, a bank that wants the cardholder to
    authenticate CardAuthenticationRequired, each with the PaymentIntent Stripe left behind."""
    params = {"amount": money_to_minor_units(amount), "currency": amount.currency.lower(), "customer": customer_id,
              "payment_method": payment_method_id, "payment_method_types": ["card"], "off_session": True,
              "confirm": True, "description": description, "metadata": metadata}
    with _stripe_errors("payment_intent_charge_off_session"):
        return _payment_intent(_client().v1.payment_intents.create(params=params, options=_options(idempotency_key)))


def payment_intent_retrieve(payment_intent_id: str) -> StripePaymentIntent:
    with _stripe_errors("payment_intent_retrieve"):
        return _payment_intent(_client().v1.payment_intents.retrieve(payment_intent_id))


def refund_create(*, payment_intent_id: str, amount: Money, metadata: dict[str, str],
                  idempotency_key: str) -> StripeRefund:
    params = {"payment_intent": payment_intent_id, "amount": money_to_minor_units(amount), "metadata": metadata}
    with _stripe_errors("refund_create"):
        return _refund(_client().v1.refunds.create(params=params, options=_options(idempotency_key)))


def refund_retrieve(refund_id: str) -> StripeRefund:
    with _stripe_errors("refund_retrieve"):
        return _refund(_client().v1.refunds.retrieve(refund_id))


def refund_list(*, charge_id: str) -> list[StripeRefund]:
    """Every refund of a charge (a charge object lists them only when expanded)."""
    with _stripe_errors("refund_list"):
        page = _client().v1.refunds.list(params={"charge": charge_id, "limit": 100})
        return [_refund(refund) for refund in page.auto_paging_iter()]


def transfer_create(*, destination: str, amount: Money, description: str, metadata: dict[str, str],
                    idempotency_key: str) -> StripeTransfer:
    """Send `amount` from the platform's balance to the connected account `destination` (acct_...)."""
    params = {"destination": destination, "amount": money_to_minor_units(amount),
              "currency": amount.currency.lower(), "description": description, "metadata": metadata}
    with _stripe_errors("transfer_create"):
        return _transfer(_client().v1.transfers.create(params=params, options=_options(idempotency_key)))


def billing_portal_session_create(*, customer_id: str, return_url: str) -> StripePortalSession:
    """A link to Stripe's customer portal, where the tenant manages its cards."""
    with _stripe_errors("billing_portal_session_create"):
        data = _plain(_client().v1.billing_portal.sessions.create(params={"customer": customer_id,
                                                                          "return_url": return_url}))
    return StripePortalSession(id=data["id"], url=data["url"])


# --- From Stripe's objects to ours -----------------------------------------------------------------------------

def _plain(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def object_id(value: Any) -> str | None:
    """An id whether Stripe sent it as is or expanded into its object."""
    if isinstance(value, dict):
        return value.get("id")
    return value or None


def _customer(obj: Any) -> StripeCustomer:
    data = _plain(obj)
    invoice_settings = data.get("invoice_settings") or {}
    return StripeCustomer(id=data["id"], email=data.get("email") or "", name=data.get("name") or "",
                          default_payment_method_id=object_id(invoice_settings.get("default_payment_method")),
                          livemode=bool(data.get("livemode")), metadata=dict(data.get("metadata") or {}))


def checkout_session_from_data(data: dict[str, Any]) -> StripeCheckoutSession:
    """A Checkout session from its JSON form (as dj-stripe stores what it fetched from Stripe)."""
    return _checkout_session(data)


def _checkout_session(obj: Any) -> StripeCheckoutSession:
    data = _plain(obj)
    return StripeCheckoutSession(id=data["id"], mode=data.get("mode") or "", status=data.get("status") or "",
                                 url=data.get("url"), customer_id=object_id(data.get("customer")),
                                 payment_intent_id=object_id(data.get("payment_intent")),
                                 setup_intent_id=object_id(data.get("setup_intent")),
                                 metadata=dict(data.get("metadata") or {}))


def payment_intent_from_data(data: dict[str, Any]) -> StripePaymentIntent:
    """A PaymentIntent from its JSON form (as dj-stripe stores what it fetched from Stripe)."""
    return _payment_intent(data)


def _payment_intent(obj: Any) -> StripePaymentIntent:
    data = _plain(obj)
    currency = (data.get("currency") or "").upper()
    error = data.get("last_payment_error") or {}
    next_action = data.get("next_action") or {}
    redirect = next_action.get("redirect_to_url") or {}
    return StripePaymentIntent(
        id=data["id"], status=data.get("status") or "",
        amount=money_from_minor_units(int(data.get("amount") or 0), currency),
        amount_received=money_from_minor_units(int(data.get("amount_received") or 0), currency),
        customer_id=object_id(data.get("customer")), payment_method_id=object_id(data.get("payment_method")),
        latest_charge_id=object_id(data.get("latest_charge")),
        failure_code=error.get("decline_code") or error.get("code") or "", failure_message=error.get("message") or "",
        next_action_url=redirect.get("url"), metadata=dict(data.get("metadata") or {}))


def refund_from_data(data: dict[str, Any]) -> StripeRefund:
    return _refund(data)


def _refund(obj: Any) -> StripeRefund:
    data = _plain(obj)
    currency = (data.get("currency") or "").upper()
    return StripeRefund(id=data["id"], status=data.get("status") or "",
                        amount=money_from_minor_units(int(data.get("amount") or 0), currency),
                        charge_id=object_id(data.get("charge")),
                        payment_intent_id=object_id(data.get("payment_intent")),
                        metadata=dict(data.get("metadata") or {}), failure_reason=data.get("failure_reason") or "")


def _transfer(obj: Any) -> StripeTransfer:
    data = _plain(obj)
    currency = (data.get("currency") or "").upper()
    return StripeTransfer(id=data["id"], amount=money_from_minor_units(int(data.get("amount") or 0), currency),
                          destination=object_id(data.get("destination")) or "", reversed=bool(data.get("reversed")),
                          metadata=dict(data.get("metadata") or {}))


def dispute_from_data(data: dict[str, Any]) -> StripeDispute:
    """A Dispute from its JSON form (as dj-stripe stores what it fetched from Stripe)."""
    currency = (data.get("currency") or "").upper()
    evidence = data.get("evidence_details") or {}
    return StripeDispute(id=data["id"], status=data.get("status") or "",
                         amount=money_from_minor_units(int(data.get("amount") or 0), currency),
                         charge_id=object_id(data.get("charge")),
                         payment_intent_id=object_id(data.get("payment_intent")), reason=data.get("reason") or "",
                         evidence_due_by=evidence.get("due_by"), created=int(data.get("created") or 0))
