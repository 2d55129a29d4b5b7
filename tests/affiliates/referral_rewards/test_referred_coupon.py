"""A tenant-referred signup's coupon: applied to its first subscription as it starts (so the first invoice carries
it), once per tenant, and never in place of a code the tenant typed."""

import uuid
from decimal import Decimal

import pytest

from affiliates.attribution import referral_bind
from affiliates.models import Referral, ReferralClick
from affiliates.referral_rewards.services import tenant_referrer_ensure
from billing.models import CouponRedemption, Subscription
from billing.subscriptions.services import subscription_cancel
from tests.support.billing import coupon_with_code, invoices_of, subscription_started
from tests.support.clock import NOW
from tests.support.factories import CouponFactory, PriceFactory
from tests.support.referrals import program_set, tenant_referred

pytestmark = pytest.mark.django_db


@pytest.fixture
def referred_coupon():
    coupon = CouponFactory(code="referred-20", name="Referred: 20% off", percent_off=Decimal("20"))
    program_set(referred_coupon=coupon)
    return coupon


def test_a_tenant_referred_by_a_tenant_gets_the_coupon_on_its_first_invoice(tenant_alpha, tenant_beta,
                                                                              referred_coupon):
    tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)

    subscription_started(tenant_beta, PriceFactory(fixed_amount=Decimal("100.00")), at=NOW)

    assert CouponRedemption.objects.get(tenant=tenant_beta).coupon == referred_coupon
    assert invoices_of(tenant_beta)[0].discount_total == Decimal("20.00")


def test_a_tenant_nobody_referred_gets_no_coupon(tenant_beta, referred_coupon):
    subscription_started(tenant_beta, PriceFactory(), at=NOW)

    assert not CouponRedemption.objects.filter(tenant=tenant_beta).exists()


def test_the_coupon_is_applied_once_even_to_a_second_subscription(tenant_alpha, tenant_beta, referred_coupon):
    tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)
    first = subscription_started(tenant_beta, PriceFactory(), at=NOW)
    subscription_cancel(subscription=first, at_period_end=False, actor="test", now=NOW)

    subscription_started(tenant_beta, PriceFactory(), at=NOW)

    assert CouponRedemption.objects.filter(tenant=tenant_beta, coupon=referred_coupon).count() == 1


def test_a_code_the_referred_tenant_typed_wins_and_the_start_goes_on(tenant_alpha, tenant_beta, referred_coupon):
    tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)
    typed = coupon_with_code(code="SPRING", percent_off=Decimal("50"))

    subscription = subscription_started(tenant_beta, PriceFactory(), at=NOW, promotion_code="SPRING")

    assert subscription.status == Subscription.Status.ACTIVE
    assert [r.coupon_id for r in CouponRedemption.objects.filter(tenant=tenant_beta)] == [typed.coupon_id]


def test_a_signup_through_a_tenants_link_is_bound_as_tenant_link_and_gets_the_coupon(tenant_alpha, tenant_beta,
                                                                                        referred_coupon):
    account = tenant_referrer_ensure(tenant=tenant_alpha, now=NOW)
    click = ReferralClick.objects.create(click_id=uuid.uuid4(), affiliate=account, landing_path="/", ip_hash="a",
                                         user_agent_class="desktop", created_at=NOW)

    referral = referral_bind(tenant=tenant_beta, click_id=click.click_id, signup_ip="198.51.100.7",
                             owner_email=tenant_beta.owner_email, now=NOW)
    subscription_started(tenant_beta, PriceFactory(), at=NOW)

    assert referral.source == Referral.Source.TENANT_LINK
    assert CouponRedemption.objects.get(tenant=tenant_beta).coupon == referred_coupon
