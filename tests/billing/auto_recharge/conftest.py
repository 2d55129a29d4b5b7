"""Auto-recharge charges through the payment rail: the same local Stripe fake as the payment tests."""

from tests.billing.payments.conftest import stripe, stripe_server  # noqa: F401  (fixtures)
