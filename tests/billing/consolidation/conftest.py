"""Reseller mode's tests charge through the payment rail when they must prove nothing is charged: the same local
Stripe fake as the payment tests. Their own invoice series, so invoices other tests committed never shift theirs."""

import pytest

from tests.billing.payments.conftest import stripe, stripe_server  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def own_series(settings):
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "ZC", "ZD"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a call as a committed transaction: what it leaves for after commit (signals, charges, emails) runs."""
    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)
    return run
