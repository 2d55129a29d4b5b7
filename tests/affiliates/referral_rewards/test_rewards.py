"""The referrer's reward: once per referred tenant, when it first pays at least the minimum, as credit or tokens,
refused with a reason past the yearly limit, and its unused credit taken back when it expires."""

from datetime import timedelta
from decimal import Decimal

import pytest

from affiliates.models import AffiliateProgram, TenantReferralReward
from affiliates.referral_rewards.services import referral_reward_grant, referral_rewards_expire, tenant_referrer_ensure
from billing.invoicing.credit import account_credit_add, account_credit_balance
from billing.models import AccountCreditEntry, Dispute
from billing.payments.events import invoice_dispute_closed
from config.money import Money
from metering.wallets.selectors import wallet_summary
from tests.support.clock import NOW
from tests.support.factories import TenantFactory
from tests.support.referrals import first_invoice_paid, program_set, referrer_account, tenant_referred

pytestmark = pytest.mark.django_db
Reward = TenantReferralReward


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def test_a_tenants_referral_account_is_created_once_with_a_code_of_its_slug(tenant_alpha):
    first = tenant_referrer_ensure(tenant=tenant_alpha, now=NOW)
    again = tenant_referrer_ensure(tenant=tenant_alpha, now=NOW)
    assert first.pk == again.pk
    assert first.kind == "tenant" and first.code.startswith("alpha-")


def test_the_referrer_gets_account_credit_when_the_referred_tenant_first_pays(tenant_alpha, tenant_beta):
    program_set(referrer_reward=AffiliateProgram.ReferrerReward.CREDIT, referrer_reward_amount=Decimal("20"))
    tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)
    invoice = first_invoice_paid(tenant_beta, at=NOW)

    reward = referral_reward_grant(invoice=invoice, now=NOW)

    assert reward.status == Reward.Status.GRANTED and reward.referrer == tenant_alpha
    assert account_credit_balance(tenant=tenant_alpha, currency="USD") == usd("20")
    assert reward.expires_at == NOW + timedelta(days=365)


def test_the_reward_is_granted_once_however_often_the_referred_tenant_pays(tenant_alpha, tenant_beta):
    tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)
    invoice = first_invoice_paid(tenant_beta, at=NOW)

    referral_reward_grant(invoice=invoice, now=NOW)
    assert referral_reward_grant(invoice=invoice, now=NOW) is None

    assert Reward.objects.filter(referrer=tenant_alpha).count() == 1
    assert account_credit_balance(tenant=tenant_alpha, currency="USD") == usd("20")


def test_the_referrer_gets_a_token_grant_when_ops_chose_tokens(tenant_alpha, tenant_beta):
    program_set(referrer_reward=AffiliateProgram.ReferrerReward.TOKENS, referrer_reward_tokens=500_000)
    tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)

    reward = referral_reward_grant(invoice=first_invoice_paid(tenant_beta, at=NOW), now=NOW)

    assert reward.kind == Reward.Kind.TOKENS and reward.tokens == 500_000
    assert wallet_summary(tenant=tenant_alpha).balance == 500_000


def test_a_payment_below_the_minimum_neither_earns_nor_spends_the_reward(tenant_alpha, tenant_beta):
    program_set(referral_min_first_payment=Decimal("50"))
    referral = tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)

    assert referral_reward_grant(invoice=first_invoice_paid(tenant_beta, at=NOW, amount="5.00"), now=NOW) is None
    assert not Reward.objects.filter(referral=referral).exists()


def test_a_tenant_not_referred_by_a_tenant_earns_nobody_a_reward(tenant_beta):
    assert referral_reward_grant(invoice=first_invoice_paid(tenant_beta, at=NOW), now=NOW) is None
    assert not Reward.objects.exists()


def test_past_the_yearly_limit_the_reward_is_refused_with_its_reason(tenant_alpha, tenant_beta):
    program_set(referrer_rewards_per_year=1)
    earlier = TenantFactory()
    tenant_referred(referred=earlier, referrer=tenant_alpha, at=NOW)
    referral_reward_grant(invoice=first_invoice_paid(earlier, at=NOW), now=NOW)
    tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)

    reward = referral_reward_grant(invoice=first_invoice_paid(tenant_beta, at=NOW), now=NOW)

    assert reward.status == Reward.Status.REFUSED
    assert "yearly limit" in reward.reason
    assert account_credit_balance(tenant=tenant_alpha, currency="USD") == usd("20")


def test_a_workspace_referred_by_its_own_owner_earns_no_reward(tenant_alpha):
    own = TenantFactory(owner_email=tenant_alpha.owner_email)
    tenant_referred(referred=own, referrer=tenant_alpha, at=NOW)

    reward = referral_reward_grant(invoice=first_invoice_paid(own, at=NOW), now=NOW)

    assert reward.status == Reward.Status.REFUSED and "Self-referral" in reward.reason
    assert account_credit_balance(tenant=tenant_alpha, currency="USD") == usd("0")


def test_a_suspended_referral_account_earns_no_reward(tenant_alpha, tenant_beta):
    tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)
    referrer_account(tenant_alpha).__class__.objects.filter(tenant=tenant_alpha).update(status="suspended")

    reward = referral_reward_grant(invoice=first_invoice_paid(tenant_beta, at=NOW), now=NOW)

    assert reward.status == Reward.Status.REFUSED and "suspended" in reward.reason


def test_unused_reward_credit_is_taken_back_when_it_expires(tenant_alpha, tenant_beta):
    tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)
    reward = referral_reward_grant(invoice=first_invoice_paid(tenant_beta, at=NOW), now=NOW)

    result = referral_rewards_expire(now=reward.expires_at)

    reward.refresh_from_db()
    assert (result.expired, result.taken_back) == (1, Decimal("20"))
    assert reward.status == Reward.Status.EXPIRED
    assert account_credit_balance(tenant=tenant_alpha, currency="USD") == usd("0")


def test_expiry_takes_back_only_what_is_left_of_the_reward_not_credit_added_later(tenant_alpha, tenant_beta):
    tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)
    reward = referral_reward_grant(invoice=first_invoice_paid(tenant_beta, at=NOW), now=NOW)
    # Spent 15 of the 20 (oldest credit first), then 30 more credit from a credit note-like promotion.
    account_credit_add(tenant=tenant_alpha, amount=usd("-15"), kind=AccountCreditEntry.Kind.ADJUSTMENT,
                       description="spent", actor="test", now=NOW + timedelta(days=1))
    account_credit_add(tenant=tenant_alpha, amount=usd("30"), kind=AccountCreditEntry.Kind.PROMOTION,
                       description="later", actor="test", now=NOW + timedelta(days=2))

    result = referral_rewards_expire(now=reward.expires_at)

    assert result.taken_back == Decimal("5")
    assert account_credit_balance(tenant=tenant_alpha, currency="USD") == usd("30")


def test_expiry_run_twice_takes_back_once(tenant_alpha, tenant_beta):
    tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)
    reward = referral_reward_grant(invoice=first_invoice_paid(tenant_beta, at=NOW), now=NOW)

    referral_rewards_expire(now=reward.expires_at)
    second = referral_rewards_expire(now=reward.expires_at + timedelta(days=1))

    assert second.expired == 0
    assert account_credit_balance(tenant=tenant_alpha, currency="USD") == usd("0")


def test_the_reward_follows_the_paid_signal_after_commit(tenant_alpha, tenant_beta, django_capture_on_commit_callbacks):
    tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)

    with django_capture_on_commit_callbacks(execute=True):
        first_invoice_paid(tenant_beta, at=NOW)

    assert Reward.objects.get(referrer=tenant_alpha).status == Reward.Status.GRANTED


def lost_dispute(invoice) -> None:
    """The payer's bank took the payment back: billing's signal, as billing sends it after commit."""
    dispute, _ = Dispute.objects.get_or_create(dispute_id="dp_reward", defaults={
        "charge_id": "ch_reward", "tenant": invoice.tenant, "invoice": invoice, "amount": invoice.total,
        "currency": "USD", "status": Dispute.Status.LOST, "opened_at": NOW, "updated_at": NOW})
    invoice_dispute_closed.send(sender=Dispute, invoice=invoice, dispute=dispute, won=False)


def test_a_referred_payment_disputed_and_lost_takes_the_referrers_unused_credit_back(tenant_alpha, tenant_beta):
    program_set(referrer_reward=AffiliateProgram.ReferrerReward.CREDIT, referrer_reward_amount=Decimal("20"))
    tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)
    invoice = first_invoice_paid(tenant_beta, at=NOW)
    reward = referral_reward_grant(invoice=invoice, now=NOW)

    lost_dispute(invoice)
    lost_dispute(invoice)  # delivered twice: taken back once

    reward.refresh_from_db()
    assert reward.status == Reward.Status.REFUSED and "disputed" in reward.reason
    assert account_credit_balance(tenant=tenant_alpha, currency="USD") == usd("0")
