"""Tenant referrals hang on billing's signals (billing never imports affiliates); connected in affiliates.apps.

- subscription_starting (inside the start, before the first invoice): the referred tenant's coupon;
- invoice_paid (after commit): the referrer's reward."""

from django.dispatch import receiver
from django.utils import timezone

from affiliates.referral_rewards.services import referral_reward_grant, referred_coupon_apply
from billing.invoicing.events import invoice_paid
from billing.models import Invoice, Subscription
from billing.subscriptions.events import subscription_starting


@receiver(subscription_starting, dispatch_uid="affiliates.referral_rewards:subscription_starting")
def subscription_starting_referred_coupon(sender, subscription: Subscription, now, **kwargs) -> None:
    referred_coupon_apply(subscription=subscription, now=now)


@receiver(invoice_paid, dispatch_uid="affiliates.referral_rewards:invoice_paid")
def invoice_paid_referral_reward(sender, invoice: Invoice, **kwargs) -> None:
    referral_reward_grant(invoice=invoice, now=timezone.now())
