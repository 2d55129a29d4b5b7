"""Auto-recharge's receivers (connected in billing.apps):

- metering's wallet_balance_fell (after the debit commits) enqueues the start of a recharge: the debit's caller
  pays for one enqueue, never for ordering and invoicing;
- an invoice saved paid or void settles the recharge it sells, in the transaction that saved it (as the token
  pack's own settlement does, billing.signals), so the recharge, the payment and the tokens commit together;
- the payment rail's payment_failed and payment_action_required (after commit) turn auto-recharge off."""

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from billing.auto_recharge.services import (
    auto_recharge_action_required,
    auto_recharge_invoice_settle,
    auto_recharge_payment_failed,
)
from billing.auto_recharge.tasks import auto_recharge_start_task
from billing.models import Invoice, Payment
from billing.payments.events import payment_action_required, payment_failed
from metering.wallets.signals import wallet_balance_fell


@receiver(wallet_balance_fell, dispatch_uid="billing.auto_recharge:wallet_balance_fell")
def wallet_balance_fell_recharge(sender, tenant_id: int, **kwargs) -> None:
    auto_recharge_start_task.delay(tenant_id=tenant_id)


@receiver(post_save, sender=Invoice, dispatch_uid="billing.auto_recharge:invoice_saved")
def invoice_auto_recharge_settle(sender, instance: Invoice, update_fields=None, **kwargs) -> None:
    if update_fields is None or "status" in update_fields:
        auto_recharge_invoice_settle(invoice=instance, now=timezone.now())


@receiver(payment_failed, dispatch_uid="billing.auto_recharge:payment_failed")
def payment_failed_auto_recharge_off(sender, payment: Payment, **kwargs) -> None:
    auto_recharge_payment_failed(payment=payment, now=timezone.now())


@receiver(payment_action_required, dispatch_uid="billing.auto_recharge:payment_action_required")
def payment_action_required_auto_recharge_off(sender, payment: Payment, **kwargs) -> None:
    auto_recharge_action_required(payment=payment, now=timezone.now())
