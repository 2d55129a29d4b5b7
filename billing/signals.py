"""Billing's receivers: they keep cached entitlements true and act on invoicing's events.

- Any change to a plan, its quotas, a tenant's assignment or its subscription forgets the cached entitlements
  (billing.selectors.entitlements_for), whether it comes from a service, the admin or a shell.
- A finalised invoice is emailed; a paid one too (when money was paid) and it clears a past-due subscription
  once nothing of it is overdue or in dunning any more; subscription changes people would want to know about are
  emailed.
- A token-pack invoice saved paid or void, and a credit note on one, settle its order (billing.token_packs).
Invoicing's signals are sent after commit (billing.invoicing.events), so none of this acts on a rollback. The
token-pack receivers listen to the models' own saves instead, inside the transaction: the tokens and the money
move together or not at all (a receiver after commit could be lost to a crash, leaving a paid invoice without
its tokens)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from billing.consolidation.selectors import invoice_is_consolidated
from billing.invoicing.events import invoice_finalized, invoice_paid
from billing.models import (
    BillingEmail,
    CreditNote,
    DunningCase,
    Invoice,
    Plan,
    PlanQuota,
    Subscription,
    SubscriptionEvent,
    TenantPlan,
)
from billing.notifications import billing_email_queue
from billing.selectors import entitlements_key
from billing.subscriptions.services import subscription_past_due_clear
from billing.token_packs import token_pack_credit_note_apply, token_pack_invoice_settle
from config.lookup_cache import lookup_forget

# History entries that are routine, not news: every period's renewal, and renewals charged to the card the tenant
# just saved (its billing page says so).
QUIET_ACTIONS = frozenset({"renewed", "collection_changed"})


@receiver(post_save, sender=Plan)
@receiver(post_delete, sender=Plan)
@receiver(post_save, sender=PlanQuota)
@receiver(post_delete, sender=PlanQuota)
def plan_changed(sender, **kwargs) -> None:
    # Every tenant on the plan is affected, and there is no cheap list of them: every process reloads every
    # lookup once. Plans are edited rarely.
    lookup_forget()


@receiver(post_save, sender=TenantPlan)
@receiver(post_delete, sender=TenantPlan)
@receiver(post_save, sender=Subscription)
@receiver(post_delete, sender=Subscription)
def tenant_entitlements_changed(sender, instance: TenantPlan | Subscription, **kwargs) -> None:
    lookup_forget(entitlements_key(instance.tenant_id))


@receiver(post_save, sender=SubscriptionEvent)
def subscription_event_recorded(sender, instance: SubscriptionEvent, created: bool, **kwargs) -> None:
    if created and instance.action not in QUIET_ACTIONS:
        billing_email_queue(kind=BillingEmail.Kind.SUBSCRIPTION_CHANGED, about=instance)


@receiver(invoice_finalized)
def invoice_finalized_email(sender, invoice: Invoice, **kwargs) -> None:
    # A consolidated client invoice is announced by invoice_consolidated only; the check is a second lock.
    if not invoice_is_consolidated(invoice):
        billing_email_queue(kind=BillingEmail.Kind.INVOICE_ISSUED, about=invoice)


@receiver(invoice_paid)
def invoice_paid_settle(sender, invoice: Invoice, **kwargs) -> None:
    if invoice.amount_paid > 0 and not invoice_is_consolidated(invoice):
        billing_email_queue(kind=BillingEmail.Kind.INVOICE_PAID, about=invoice)
    if invoice.subscription_id is None:
        return
    now = timezone.now()
    still_overdue = Invoice.objects.filter(subscription_id=invoice.subscription_id, status=Invoice.Status.OPEN,
                                           due_at__lte=now).exists()
    # An invoice still in dunning keeps the subscription past due even before its due date: clearing it would
    # restart the grace days at that invoice's next failure (and dunning marks past due only when a case opens).
    # This invoice's own case is left out: dunning ends it on this same signal, in whichever order.
    still_dunned = DunningCase.objects.filter(subscription_id=invoice.subscription_id,
                                              status=DunningCase.Status.ACTIVE).exclude(invoice_id=invoice.pk).exists()
    if not still_overdue and not still_dunned:
        subscription = Subscription.objects.get(pk=invoice.subscription_id)
        subscription_past_due_clear(subscription=subscription, now=now)


@receiver(post_save, sender=Invoice)
def invoice_token_pack_settle(sender, instance: Invoice, update_fields=None, **kwargs) -> None:
    # Only saves that may change the status: a paid invoice's credit notes save it again, and settle nothing.
    if update_fields is None or "status" in update_fields:
        token_pack_invoice_settle(invoice=instance)


@receiver(post_save, sender=CreditNote)
def credit_note_token_pack_refund(sender, instance: CreditNote, created: bool, **kwargs) -> None:
    if created:
        token_pack_credit_note_apply(credit_note=instance)
