"""Ops' admin of tenant referral rewards: listed with the referred workspace and the reward, read only, and the
unused part of a credit reward on its page."""

import pytest

from accounts.models import User
from affiliates.models import TenantReferralReward
from affiliates.referral_rewards.services import referral_reward_grant
from tests.support.clock import NOW
from tests.support.referrals import first_invoice_paid, tenant_referred

pytestmark = pytest.mark.django_db

REWARDS = "/admin/affiliates/tenantreferralreward/"


@pytest.fixture
def admin_client(public_client, db):
    public_client.force_login(User.objects.create_superuser("operator@tollgate.test", "pw-operator-123"))
    return public_client


@pytest.fixture
def reward(tenant_alpha, tenant_beta) -> TenantReferralReward:
    tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)
    return referral_reward_grant(invoice=first_invoice_paid(tenant_beta, at=NOW), now=NOW)


def test_ops_see_each_reward_with_its_referrer_and_referred_workspace(admin_client, reward):
    body = admin_client.get(REWARDS).content.decode()

    assert "alpha" in body and "beta" in body and "20.00 USD" in body


def test_a_credit_rewards_page_shows_what_is_left_of_it(admin_client, reward):
    body = admin_client.get(f"{REWARDS}{reward.pk}/change/").content.decode()

    assert "20.00 USD (taken back at expiry" in body


def test_rewards_cannot_be_added_or_deleted_in_the_admin(admin_client, reward):
    assert admin_client.get(f"{REWARDS}add/").status_code == 403
    assert admin_client.post(f"{REWARDS}{reward.pk}/delete/", {"post": "yes"}).status_code == 403
    assert TenantReferralReward.objects.filter(pk=reward.pk).exists()
