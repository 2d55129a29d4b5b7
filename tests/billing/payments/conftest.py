"""Stripe turned on against the local fake (devtools/stripe_fake.py): the server starts once per test
session; each test gets it emptied, the settings pointing at it and the webhook endpoint row dj-stripe verifies
signatures with."""

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
    """The fake's state for this test (emptied), with Stripe on: the secret key and API base point at it."""
    stripe_server.fake.reset()
    with override_settings(STRIPE_SECRET_KEY=TEST_SECRET_KEY, STRIPE_API_BASE=stripe_server.url,
                           STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, STRIPE_MAX_NETWORK_RETRIES=0):
        yield stripe_server.fake


@pytest.fixture
def webhook_endpoint(stripe):
    from billing.payments.webhooks import webhook_endpoint_ensure

    return webhook_endpoint_ensure(secret=WEBHOOK_SECRET)
