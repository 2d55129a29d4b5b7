"""Tenant referrals hang on billing's signals (billing never imports affiliates); connected in affiliates.apps.

- subscription_starting (inside the start, before the first invoice): the referred tenant's coupon, in a savepoint,
  so that a failure costs the discount, never the subscription;
- invoice_dispute_closed, lost (after commit): the reward that payment earned is taken back;
- invoice_paid (after commit): the referrer's reward. A failure is logged, never raised into billing's caller (the
  invoice is paid whatever happens here); ops see the missing reward in the admin."""

import logging

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from affiliates.referral_rewards.services import referral_reward_grant, referral_reward_take_back, referred_coupon_apply
from billing.invoicing.events import invoice_paid
from billing.models import Invoice, Subscription
from billing.payments.events import invoice_dispute_closed
from billing.subscriptions.events import subscription_starting

logger = logging.getLogger(__name__)


@receiver(subscription_starting, dispatch_uid="affiliates.referral_rewards:subscription_starting")
def subscription_starting_referred_coupon(sender, subscription: Subscription, now, **kwargs) -> None:
    try:
        with transaction.atomic():
            referred_coupon_apply(subscription=subscription, now=now)
    except Exception:
        logger.exception("referred_coupon_apply_failed subscription=%s", subscription.pk)


@receiver(invoice_paid, dispatch_uid="affiliates.referral_rewards:invoice_paid")
def invoice_paid_referral_reward(sender, invoice: Invoice, **kwargs) -> None:
    try:
        referral_reward_grant(invoice=invoice, now=timezone.now())
    except Exception:
        logger.exception("referral_reward_grant_failed invoice=%s", invoice.pk)


@receiver(invoice_dispute_closed, dispatch_uid="affiliates.referral_rewards:invoice_dispute_closed")
def invoice_dispute_lost_referral_reward(sender, invoice: Invoice, won: bool, **kwargs) -> None:
    if won:
        return
    try:
        referral_reward_take_back(invoice=invoice, now=timezone.now())
    except Exception:
        logger.exception("referral_reward_take_back_failed invoice=%s", invoice.pk)
