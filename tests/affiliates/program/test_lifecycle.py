"""A referral follows its tenant: signed up → trialing → paying → churned."""

import pytest
from django.utils import timezone

from affiliates.attribution import referral_bind
from affiliates.models import Referral
from billing.models import Invoice
from billing.subscriptions.services import subscription_cancel
from tests.support.affiliate_program import affiliate_make
from tests.support.billing import invoice_pay, subscription_started
from tests.support.factories import PriceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def referral(tenant_alpha) -> Referral:
    return referral_bind(tenant=tenant_alpha, affiliate=affiliate_make("partner-lifec"), source="click",
                         now=timezone.now())


def _status(referral: Referral) -> str:
    referral.refresh_from_db()
    return referral.status


def test_a_trial_makes_the_referral_trialing(referral, tenant_alpha):
    subscription_started(tenant_alpha, PriceFactory(trial_days=14), at=timezone.now(), trial=True)

    assert _status(referral) == Referral.Status.TRIALING


def test_the_first_paid_invoice_makes_the_referral_paying(referral, tenant_alpha, django_capture_on_commit_callbacks):
    subscription_started(tenant_alpha, PriceFactory(), at=timezone.now())
    invoice = Invoice.objects.get(tenant=tenant_alpha, status=Invoice.Status.OPEN)

    with django_capture_on_commit_callbacks(execute=True):
        invoice_pay(invoice)

    referral.refresh_from_db()
    assert referral.status == Referral.Status.PAYING and referral.first_paid_at is not None


def test_a_canceled_subscription_churns_the_referral(referral, tenant_alpha):
    subscription = subscription_started(tenant_alpha, PriceFactory(), at=timezone.now())

    subscription_cancel(subscription=subscription, actor="owner@alpha.test", now=timezone.now(), at_period_end=False)

    referral.refresh_from_db()
    assert referral.status == Referral.Status.CHURNED and referral.churned_at is not None


def test_a_tenant_that_signs_up_while_trialing_starts_trialing(tenant_alpha):
    subscription_started(tenant_alpha, PriceFactory(trial_days=14), at=timezone.now(), trial=True)

    referral = referral_bind(tenant=tenant_alpha, affiliate=affiliate_make("partner-trial"), source="click",
                             now=timezone.now())

    assert referral.status == Referral.Status.TRIALING


def test_a_failing_referral_update_never_fails_the_subscription(referral, tenant_alpha, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("affiliates are broken")

    monkeypatch.setattr("affiliates.lifecycle.referral_follow_subscription", broken)

    subscription = subscription_started(tenant_alpha, PriceFactory(), at=timezone.now())

    assert subscription.pk is not None and _status(referral) == Referral.Status.SIGNED_UP
