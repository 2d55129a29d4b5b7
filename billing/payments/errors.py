"""Refusals of the payment rail. billing.payments.stripe_api turns every Stripe failure into one of these, so a
card decline (the customer's problem, 402) never reads like Stripe being down (ours to retry, 503)."""

from __future__ import annotations

from typing import Any

from billing.errors import BillingError


class PaymentsNotConfigured(BillingError):
    """No STRIPE_SECRET_KEY (collection is manual), or Stripe refused the key."""

    code = "payments_not_configured"
    status = 503


class PaymentProviderUnavailable(BillingError):
    """Stripe could not be reached, answered 5xx or rate-limited us: retrying later may work."""

    code = "payment_provider_unavailable"
    status = 503
    retry_after_s = 30


class PaymentProviderError(BillingError):
    """Stripe refused a request as malformed or conflicting (a bug of ours, or an Idempotency-Key reused with
    other parameters): retrying the same request will not help."""

    code = "payment_provider_error"
    status = 502


class PaymentObjectMissing(PaymentProviderError):
    code = "payment_object_missing"
    status = 404


class CardDeclined(BillingError):
    """The card was declined. `payment_intent` is the PaymentIntent Stripe left behind (plain data, or None when
    the decline came before one existed); `decline_code` says why, when Stripe does."""

    code = "card_declined"
    status = 402

    def __init__(self, message: str, *, decline_code: str = "", payment_intent: Any = None,
                 details: dict[str, Any] | None = None):
        super().__init__(message, details={"decline_code": decline_code, **(details or {})})
        self.decline_code = decline_code
        self.payment_intent = payment_intent


class CardAuthenticationRequired(CardDeclined):
    """The bank wants the cardholder to authenticate (SCA): the payment can be made only with them present."""

    code = "authentication_required"


class PaymentMethodMissing(BillingError):
    """The tenant has no card to charge."""

    code = "payment_method_missing"
    status = 409


class PaymentInProgress(BillingError):
    """A payment of the invoice is already on its way (Stripe is processing it): paying again could pay twice."""

    code = "payment_in_progress"
    status = 409


class DunningCaseInvalid(BillingError):
    """The dunning case has ended, or its invoice is no longer open: there is nothing to retry or close."""

    code = "dunning_case_invalid"
    status = 409


class CardRefundNotPossible(BillingError):
    """A credit note cannot go back to the card: the invoice was not paid by a card payment, or that payment has
    less left to give back than asked (what it brought, less what earlier card refunds took)."""

    code = "card_refund_not_possible"
    status = 409
