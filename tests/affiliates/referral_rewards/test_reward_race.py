"""Two workspaces a referrer brought pay at the same moment while one reward is left this year: one reward is
granted and the other refused, never two (the referrer's referral account is locked while counting)."""


from affiliates.models import Affiliate, AffiliateProgram, Referral, TenantReferralReward
from affiliates.referral_rewards.receivers import invoice_paid_referral_reward
from affiliates.referral_rewards.services import referral_reward_grant
from billing.invoicing.credit import account_credit_balance
from billing.invoicing.events import invoice_paid
from tests.support.clock import NOW
from tests.support.concurrency import run_together
from tests.support.factories import TenantFactory
from tests.support.referrals import first_invoice_paid, program_set, tenant_referred

Reward = TenantReferralReward
RECEIVER = "affiliates.referral_rewards:invoice_paid"


def test_two_referred_workspaces_paying_at_once_cannot_both_take_the_last_reward(committed_db):
    limit_before = AffiliateProgram.objects.get(code="default").referrer_rewards_per_year
    referrer, first, second = TenantFactory(), TenantFactory(), TenantFactory()
    try:
        program_set(referrer_rewards_per_year=1)
        tenant_referred(referred=first, referrer=referrer, at=NOW)
        tenant_referred(referred=second, referrer=referrer, at=NOW)
        # Paid without the signal's own grant (it would run at once, one after the other, on commit).
        invoice_paid.disconnect(dispatch_uid=RECEIVER)
        try:
            invoices = [first_invoice_paid(first, at=NOW), first_invoice_paid(second, at=NOW)]
        finally:
            invoice_paid.connect(invoice_paid_referral_reward, dispatch_uid=RECEIVER)

        outcomes = run_together(*[lambda invoice=invoice: referral_reward_grant(invoice=invoice, now=NOW)
                                  for invoice in invoices])

        assert sorted(outcome.status for outcome in outcomes) == [Reward.Status.GRANTED, Reward.Status.REFUSED]
        assert account_credit_balance(tenant=referrer, currency="USD").amount == 20
    finally:
        program_set(referrer_rewards_per_year=limit_before)
        Reward.objects.filter(referrer=referrer).delete()
        Referral.objects.filter(affiliate__tenant=referrer).delete()
        Affiliate.objects.filter(tenant=referrer).delete()
