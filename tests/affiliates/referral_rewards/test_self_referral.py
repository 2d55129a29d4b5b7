"""A workspace referring itself through its own referral link earns no reward: the referred workspace's owner is on
the referrer's team, someone is on both teams, the owners share a company's email domain, or the signup came from
an IP address the referrer's staff used or from the referrer's own signup's device. Agency staff acting in two
client workspaces, and colleagues at a public mailbox provider, are not the referrer."""

from decimal import Decimal

import pytest

from accounts.models import Role
from affiliates.agencies.handoff import shadow_email_for
from affiliates.fingerprints import ip_hash
from affiliates.models import Referral, TenantReferralReward
from affiliates.referral_rewards.services import referral_reward_grant
from billing.invoicing.credit import account_credit_balance
from config.money import Money
from tests.support.clock import NOW
from tests.support.commissions import affiliate_make, tenant_bare
from tests.support.factories import StaffUserFactory, TenantFactory
from tests.support.referrals import first_invoice_paid, program_set, referrer_account, tenant_referred
from tests.support.tenants import STANDARD_PASSWORD, client_for

pytestmark = pytest.mark.django_db
Reward = TenantReferralReward
OFFICE_IP = "203.0.113.40"


@pytest.fixture(autouse=True)
def program():
    return program_set(referrer_reward_amount=Decimal("20"))


def reward_for(referred) -> TenantReferralReward:
    return referral_reward_grant(invoice=first_invoice_paid(referred, at=NOW), now=NOW)


def no_credit(tenant) -> bool:
    return account_credit_balance(tenant=tenant, currency="USD") == Money(Decimal("0"), "USD")


def test_owner_referring_second_workspace_gets_no_reward(tenant_alpha, tenant_beta):
    # Alpha's owner added beta's owner address to alpha's team: the same person under a second address.
    StaffUserFactory(tenant=tenant_alpha, role=Role.ADMIN, email=tenant_beta.owner_email)
    tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)

    reward = reward_for(tenant_beta)

    assert reward.status == Reward.Status.REFUSED
    assert reward.reason.startswith("Self-referral: someone on the referred workspace's team")
    assert no_credit(tenant_alpha)


def test_member_email_in_both_workspaces_flags_self_referral(tenant_alpha, tenant_beta):
    tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)
    invoice = first_invoice_paid(tenant_beta, at=NOW)
    StaffUserFactory(tenant=tenant_alpha, role=Role.MEMBER, email="dana@consultant.test")
    StaffUserFactory(tenant=tenant_beta, role=Role.BILLING, email="Dana@Consultant.test")

    reward = referral_reward_grant(invoice=invoice, now=NOW)

    assert reward.status == Reward.Status.REFUSED and "Self-referral" in reward.reason
    assert "dana" not in reward.reason.lower()
    assert no_credit(tenant_alpha)


def test_a_referred_owner_at_the_referrers_company_domain_gets_no_reward(tenant_alpha):
    colleague = TenantFactory(owner_email="someone.else@alpha.test")
    tenant_referred(referred=colleague, referrer=tenant_alpha, at=NOW)

    reward = reward_for(colleague)

    assert reward.status == Reward.Status.REFUSED and "email domain (alpha.test)" in reward.reason


def test_two_owners_at_a_public_mailbox_provider_still_earn_the_reward(tenant_alpha):
    tenant_alpha.owner_email = "alpha.owner@gmail.com"
    tenant_alpha.save(update_fields=["owner_email"])
    friend = TenantFactory(owner_email="a.friend@gmail.com")
    tenant_referred(referred=friend, referrer=tenant_alpha, at=NOW)

    assert reward_for(friend).status == Reward.Status.GRANTED


def test_a_signup_from_the_ip_address_the_referrers_staff_used_gets_no_reward(tenant_alpha, tenant_beta):
    # The owner opens the Referrals page (where the link is) from the office, then signs up beta from there.
    owner = client_for(tenant_alpha)
    owner.defaults["REMOTE_ADDR"] = OFFICE_IP
    owner.post("/accounts/login/", {"login": tenant_alpha.owner_email, "password": STANDARD_PASSWORD})
    assert owner.get("/referrals/").status_code == 200
    referral = tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)
    Referral.objects.filter(pk=referral.pk).update(signup_ip_hash=ip_hash(OFFICE_IP))

    reward = reward_for(tenant_beta)

    assert reward.status == Reward.Status.REFUSED
    assert reward.reason == "Self-referral: the signup came from an IP address the referring workspace used itself."


def test_a_staff_sign_in_on_the_workspace_host_is_remembered_as_the_workspaces_own_ip(tenant_alpha, tenant_beta):
    tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)  # alpha has its link
    owner = client_for(tenant_alpha)
    owner.defaults["REMOTE_ADDR"] = OFFICE_IP
    owner.post("/accounts/login/", {"login": tenant_alpha.owner_email, "password": STANDARD_PASSWORD})

    assert referrer_account(tenant_alpha).fingerprints.filter(kind="ip", hash=ip_hash(OFFICE_IP)).exists()


def test_a_signup_from_the_device_the_referrer_itself_signed_up_with_gets_no_reward(tenant_alpha, tenant_beta):
    # Alpha came through someone's link itself: its own signup's device is known.
    Referral.objects.create(tenant=tenant_alpha, affiliate=affiliate_make(), source=Referral.Source.CLICK,
                            owner_email=tenant_alpha.owner_email, signup_device_hash="alphas-laptop", created_at=NOW)
    referral = tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)
    Referral.objects.filter(pk=referral.pk).update(signup_device_hash="alphas-laptop")

    reward = reward_for(tenant_beta)

    assert reward.status == Reward.Status.REFUSED and "a device the referring workspace used" in reward.reason


def test_the_same_agency_acting_in_both_workspaces_is_not_self_referral(tenant_alpha, tenant_beta):
    tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)
    invoice = first_invoice_paid(tenant_beta, at=NOW)
    shadow = shadow_email_for(agency=tenant_bare(type="agency"), staff_email="amir@northwind.test")
    StaffUserFactory(tenant=tenant_alpha, role=Role.ADMIN, email=shadow)
    StaffUserFactory(tenant=tenant_beta, role=Role.ADMIN, email=shadow)

    assert referral_reward_grant(invoice=invoice, now=NOW).status == Reward.Status.GRANTED
