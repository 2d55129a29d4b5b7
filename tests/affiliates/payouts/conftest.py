"""Stripe on against the local fake for the Connect transfer tests (as tests/billing/payments/conftest.py)."""

import pytest
from django.test import override_settings

from devtools.stripe_fake import TEST_SECRET_KEY, WEBHOOK_SECRET, FakeStripeServer


@pytest.fixture(scope="session")
def stripe_server():
    server = FakeStripeServer().start()
    yield server
    server.stop()


@pytest.fixture
def stripe(stripe_server):
    stripe_server.fake.reset()
    with override_settings(STRIPE_SECRET_KEY=TEST_SECRET_KEY, STRIPE_API_BASE=stripe_server.url,
                           STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, STRIPE_MAX_NETWORK_RETRIES=0):
        yield stripe_server.fake
