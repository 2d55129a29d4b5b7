"""A referral follows its tenant: signed up → trialing (a trial starts) → paying (the first invoice paid with
money) → churned (its subscription canceled or expired with none current). A churned tenant that pays again is
paying again. Billing never imports this: it hangs on billing's own model saves and `invoice_paid`.

Neither receiver may ever fail billing: the subscription save runs inside billing's transaction (the update here
runs in a savepoint), and `invoice_paid` goes on to its other receivers. A failure is logged; the referral's status
is then behind until the tenant's next change."""

import logging

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from affiliates.models import Referral
from billing.invoicing.events import invoice_paid
from billing.models import Invoice, Subscription
from billing.subscriptions.selectors import subscription_current

logger = logging.getLogger(__name__)

ENDED = frozenset({Subscription.Status.CANCELED, Subscription.Status.EXPIRED})


@receiver(post_save, sender=Subscription, dispatch_uid="affiliates.lifecycle:subscription_saved")
def subscription_saved_referral_follow(sender, instance: Subscription, **kwargs) -> None:
    try:
        with transaction.atomic():
            referral_follow_subscription(subscription=instance)
    except Exception:
        logger.exception("referral_follow_failed tenant_id=%s subscription_id=%s", instance.tenant_id, instance.pk)


@receiver(invoice_paid, dispatch_uid="affiliates.lifecycle:invoice_paid")
def invoice_paid_referral_follow(sender, invoice: Invoice, **kwargs) -> None:
    try:
        referral_follow_payment(invoice=invoice)
    except Exception:
        logger.exception("referral_follow_failed tenant_id=%s invoice_id=%s", invoice.tenant_id, invoice.pk)


def referral_follow_subscription(*, subscription: Subscription) -> None:
    referrals = Referral.objects.filter(tenant_id=subscription.tenant_id)
    if subscription.status == Subscription.Status.TRIALING:
        referrals.filter(status=Referral.Status.SIGNED_UP).update(status=Referral.Status.TRIALING)
    elif subscription.status in ENDED and subscription_current(tenant=subscription.tenant) is None:
        referrals.exclude(status=Referral.Status.CHURNED).update(status=Referral.Status.CHURNED,
                                                                 churned_at=timezone.now())


def referral_follow_payment(*, invoice: Invoice) -> None:
    if invoice.amount_paid <= 0:  # paid entirely by credit or a 100 % coupon: not yet a paying customer
        return
    referral = Referral.objects.filter(tenant_id=invoice.tenant_id).first()
    if referral is None:
        return
    referral.status = Referral.Status.PAYING
    referral.first_paid_at = referral.first_paid_at or invoice.paid_at or timezone.now()
    referral.save(update_fields=["status", "first_paid_at"])
