"""The fake itself, briefly: it behaves as Stripe does for what the payment tests rely on."""

from decimal import Decimal

import pytest

from billing.payments import stripe_api
from billing.payments.errors import CardAuthenticationRequired, CardDeclined, PaymentObjectMissing
from config.money import Money
from devtools.stripe_fake import CARD_AUTHENTICATION, CARD_DECLINED

USD_10 = Money(Decimal("10.00"), "USD")


def customer(stripe):
    return stripe_api.customer_create(email="a@b.test", name="A", address=None, metadata={"tenant_id": "1"},
                                      idempotency_key="customer-1")


def test_a_created_object_gets_a_prefixed_id_and_the_fields_it_was_given(stripe):
    created = customer(stripe)
    assert created.id.startswith("cus_")
    assert (created.email, created.metadata) == ("a@b.test", {"tenant_id": "1"})
    assert stripe_api.customer_retrieve(created.id) == created


def test_the_same_idempotency_key_answers_with_the_first_response(stripe):
    assert customer(stripe).id == customer(stripe).id
    assert len(stripe.of_type("customer")) == 1


def test_a_missing_object_is_resource_missing(stripe):
    with pytest.raises(PaymentObjectMissing):
        stripe_api.customer_retrieve("cus_nope")


def test_a_normal_card_succeeds_off_session(stripe):
    card = stripe.card_attach(customer(stripe).id)
    intent = stripe_api.payment_intent_charge_off_session(customer_id=card["customer"], payment_method_id=card["id"],
                                                          amount=USD_10, description="x", metadata={},
                                                          idempotency_key="pi-1")
    assert (intent.status, intent.amount_received) == ("succeeded", USD_10)


def test_a_decline_card_fails_with_a_card_error_and_the_intent_it_left(stripe):
    card = stripe.card_attach(customer(stripe).id, CARD_DECLINED)
    with pytest.raises(CardDeclined) as declined:
        stripe_api.payment_intent_charge_off_session(customer_id=card["customer"], payment_method_id=card["id"],
                                                     amount=USD_10, description="x", metadata={},
                                                     idempotency_key="pi-1")
    assert declined.value.decline_code == "generic_decline"
    assert declined.value.payment_intent.status == "requires_payment_method"


def test_an_authentication_card_off_session_is_declined_as_authentication_required(stripe):
    card = stripe.card_attach(customer(stripe).id, CARD_AUTHENTICATION)
    with pytest.raises(CardAuthenticationRequired):
        stripe_api.payment_intent_charge_off_session(customer_id=card["customer"], payment_method_id=card["id"],
                                                     amount=USD_10, description="x", metadata={},
                                                     idempotency_key="pi-1")
