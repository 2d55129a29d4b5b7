"""The Stripe boundary turns each kind of Stripe failure into the domain error the caller can act on: a decline is
the customer's (402), Stripe unreachable or failing is ours to retry (503), a refused key is configuration."""

import socket
from decimal import Decimal

import pytest
from django.test import override_settings

from billing.payments import stripe_api
from billing.payments.errors import (
    CardDeclined,
    PaymentProviderError,
    PaymentProviderUnavailable,
    PaymentsNotConfigured,
)
from config.money import Money
from devtools.stripe_fake import CARD_DECLINED


def customer_id() -> str:
    return stripe_api.customer_create(email="a@b.test", name="A", address=None, metadata={},
                                      idempotency_key="boundary-customer").id


def test_without_a_secret_key_stripe_is_off_and_calls_say_so():
    assert not stripe_api.stripe_enabled()
    with pytest.raises(PaymentsNotConfigured):
        stripe_api.customer_retrieve("cus_1")


def test_a_decline_is_a_402_card_error_not_an_outage(stripe):
    card = stripe.card_attach(customer_id(), CARD_DECLINED)

    with pytest.raises(CardDeclined) as declined:
        stripe_api.payment_intent_charge_off_session(
            customer_id=card["customer"], payment_method_id=card["id"], amount=Money(Decimal("5.00"), "USD"),
            description="x", metadata={}, idempotency_key="boundary-pi")

    assert (declined.value.status, declined.value.code) == (402, "card_declined")


@pytest.mark.parametrize("status", [500, 503, 429])
def test_stripe_failing_or_rate_limiting_is_unavailable_and_worth_retrying(stripe, status):
    stripe.fail_next(status=status)

    with pytest.raises(PaymentProviderUnavailable) as unavailable:
        stripe_api.customer_retrieve("cus_1")

    assert (unavailable.value.status, unavailable.value.retry_after_s) == (503, 30)


def test_stripe_unreachable_is_unavailable(stripe):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with override_settings(STRIPE_API_BASE=f"http://127.0.0.1:{closed_port}"):
        with pytest.raises(PaymentProviderUnavailable):
            stripe_api.customer_retrieve("cus_1")


def test_a_reused_idempotency_key_with_other_parameters_is_refused_as_our_error(stripe):
    stripe_api.customer_create(email="a@b.test", name="A", address=None, metadata={}, idempotency_key="same")

    with pytest.raises(PaymentProviderError):
        stripe_api.customer_create(email="other@b.test", name="B", address=None, metadata={},
                                   idempotency_key="same")


def test_the_billing_portal_link_is_for_the_customer(stripe):
    customer = customer_id()

    session = stripe_api.billing_portal_session_create(customer_id=customer, return_url="http://alpha.localhost/")

    assert session.url.startswith(stripe.base_url)
    assert stripe.get(session.id)["customer"] == customer
