"""A referral follows its tenant: signed up → trialing (a trial starts) → paying (the first invoice paid with
money) → churned (its subscription canceled or expired with none current). A churned tenant that pays again is
paying again. Billing never imports this: it hangs on billing's own model saves and `invoice_paid`."""

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from affiliates.models import Referral
from billing.invoicing.events import invoice_paid
from billing.models import Invoice, Subscription
from billing.subscriptions.selectors import subscription_current

ENDED = frozenset({Subscription.Status.CANCELED, Subscription.Status.EXPIRED})


@receiver(post_save, sender=Subscription)
def subscription_saved_referral_follow(sender, instance: Subscription, **kwargs) -> None:
    referrals = Referral.objects.filter(tenant_id=instance.tenant_id)
    if instance.status == Subscription.Status.TRIALING:
        referrals.filter(status=Referral.Status.SIGNED_UP).update(status=Referral.Status.TRIALING)
    elif instance.status in ENDED and subscription_current(tenant=instance.tenant) is None:
        referrals.exclude(status=Referral.Status.CHURNED).update(status=Referral.Status.CHURNED,
                                                                 churned_at=timezone.now())


@receiver(invoice_paid)
def invoice_paid_referral_follow(sender, invoice: Invoice, **kwargs) -> None:
    if invoice.amount_paid <= 0:  # paid entirely by credit or a 100 % coupon: not yet a paying customer
        return
    referral = Referral.objects.filter(tenant_id=invoice.tenant_id).first()
    if referral is None:
        return
    referral.status = Referral.Status.PAYING
    referral.first_paid_at = referral.first_paid_at or invoice.paid_at or timezone.now()
    referral.save(update_fields=["status", "first_paid_at"])
