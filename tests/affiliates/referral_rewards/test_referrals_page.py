"""The Referrals page in a tenant's workspace: its link (created on the first visit), the counts, the rewards and
the rules, for every member."""

from decimal import Decimal

import pytest

from accounts.models import Role
from affiliates.models import Affiliate
from affiliates.referral_rewards.services import referral_reward_grant
from tests.support.clock import NOW
from tests.support.referrals import first_invoice_paid, program_set, referrer_account, tenant_referred
from tests.support.staff import staff_client
from tests.support.tenants import client_for

pytestmark = pytest.mark.django_db


def test_the_first_visit_creates_the_workspaces_referral_link(alpha_owner_client, tenant_alpha):
    response = alpha_owner_client.get("/referrals/")

    account = referrer_account(tenant_alpha)
    assert response.status_code == 200
    assert f"/r/{account.code}" in response.content.decode()
    assert alpha_owner_client.get("/referrals/").status_code == 200
    assert Affiliate.objects.filter(tenant=tenant_alpha).count() == 1


def test_the_page_counts_signups_payments_and_rewards(alpha_owner_client, tenant_alpha, tenant_beta):
    program_set(referrer_reward_amount=Decimal("25"))
    tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)
    referral_reward_grant(invoice=first_invoice_paid(tenant_beta, at=NOW), now=NOW)

    body = alpha_owner_client.get("/referrals/").content.decode()

    assert 'id="referrals-signed-up">1<' in body
    assert 'id="referrals-paying">1<' in body
    assert 'id="referrals-rewards">1<' in body and "25.00 USD account credit" in body


def test_the_page_states_the_rules(alpha_owner_client):
    program_set(referrer_rewards_per_year=7, referral_min_first_payment=Decimal("15"))

    body = alpha_owner_client.get("/referrals/").content.decode()

    assert "At most 7 rewards per calendar year" in body and "at least 15.00" in body


def test_a_member_may_see_and_share_the_link(tenant_alpha):
    assert staff_client(tenant_alpha, Role.MEMBER).get("/referrals/").status_code == 200


def test_an_anonymous_visitor_is_sent_to_sign_in(tenant_alpha):
    assert client_for(tenant_alpha).get("/referrals/").status_code == 302
