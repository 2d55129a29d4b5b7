"""The billing run: closes every subscription period that has ended into its invoice, exactly once, and rolls the
subscription into its next period; then finalises the drafts whose draft period is over.

Exactly once, whatever happens:
- one transaction per subscription period: the cycle invoice, its finalisation (when there is no draft period)
  and the roll into the next period commit together or not at all, so a crash half-way leaves the period
  due and the next run bills it from scratch;
- the subscription's row is locked with SKIP LOCKED, so two runs at once share the work instead of waiting,
  and a run re-reads the row under the lock (a period another run closed meanwhile is no longer due);
- the invoice_one_per_subscription_period unique constraint is the last word: an invoice for the period that
  exists already is never written again (checked under the lock, and the constraint refuses it anyway).
A rerun finds nothing due and creates nothing. A run that missed several periods bills them one by one.

Only active and past-due subscriptions are billed here. A trialing subscription's period is its trial: the run
first has the trials processed (billing.subscriptions: reminders due, conversions with their first invoice,
expiries) and emails the reminders. A paused subscription is not invoiced; canceled and expired ones are over.
Last, active subscriptions with an open invoice past its due date become past due."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from billing.invoicing.drafting import cycle_invoice_draft, invoice_issue
from billing.invoicing.services import invoice_finalize
from billing.models import BillingEmail, Invoice, Subscription, SubscriptionEvent
from billing.notifications import billing_email_queue
from billing.selectors import entitlements_key
from billing.subscriptions.proration import subscription_next_period
from billing.subscriptions.services import subscription_past_due_mark, subscription_trials_process
from config.lookup_cache import lookup_forget

logger = logging.getLogger(__name__)

Status = Subscription.Status
BILLED_STATUSES = (Status.ACTIVE, Status.PAST_DUE)
SYSTEM_ACTOR = "system"


@dataclass
class BillingRunResult:
    invoices_created: int = 0
    invoices_finalized: int = 0
    subscriptions_rolled: int = 0
    subscriptions_ended: int = 0
    subscriptions_past_due: int = 0
    trial_reminders: int = 0
    trials_converted: int = 0
    trials_ended: int = 0
    # Subscriptions (or, for drafts, invoices) that could not be processed (logged with the error); the next run
    # retries them.
    failed: list[int] = field(default_factory=list)
    failed_invoices: list[int] = field(default_factory=list)


def billing_run(*, now: datetime) -> BillingRunResult:
    """Process the trials, bill every period that ended at or before `now`, finalise the drafts due by `now` and
    mark overdue subscriptions past due. Safe to run again, after a crash, and at the same time as another run
    (see the module docstring)."""
    result = BillingRunResult()
    try:
        _trials_process(now=now, result=result)
    except Exception:
        # Trials are retried by the next run; the periods that ended are billed regardless.
        logger.exception("billing_run_trials_failed")
    due = (Subscription.objects.filter(status__in=BILLED_STATUSES, current_period_end__lte=now)
           .order_by("current_period_end", "pk").values_list("pk", flat=True))
    for subscription_id in list(due):
        try:
            while _period_close(subscription_id, now=now, result=result):
                pass
        except Exception:
            # One misconfigured price must not stop everyone else's invoices; its transaction rolled back.
            logger.exception("billing_run_failed subscription=%s", subscription_id)
            result.failed.append(subscription_id)
    _drafts_finalize(now=now, result=result)
    _overdue_mark(now=now, result=result)
    logger.info("billing_run now=%s invoices_created=%s invoices_finalized=%s rolled=%s ended=%s past_due=%s "
                "trials_converted=%s failed=%s failed_invoices=%s", now.isoformat(), result.invoices_created,
                result.invoices_finalized, result.subscriptions_rolled, result.subscriptions_ended,
                result.subscriptions_past_due, result.trials_converted, len(result.failed),
                len(result.failed_invoices))
    return result


def _trials_process(*, now: datetime, result: BillingRunResult) -> None:
    """Trials first: one that converts now starts its first paid period (invoiced by the trial processing), so
    the run never bills a trial's period as if it were paid. The reminders are emailed after their commit."""
    trials = subscription_trials_process(now=now)
    for subscription in trials.reminders:
        billing_email_queue(kind=BillingEmail.Kind.TRIAL_ENDING, about=subscription)
    result.trial_reminders = len(trials.reminders)
    result.trials_converted = len(trials.converted)
    result.trials_ended = len(trials.expired) + len(trials.canceled)


def _period_close(subscription_id: int, *, now: datetime, result: BillingRunResult) -> bool:
    """Close the subscription's current period if it is still due and no other run holds it: its invoice, then
    the roll. Returns whether its next period is due too (a run that missed several)."""
    with transaction.atomic():
        subscription = (Subscription.objects.select_for_update(skip_locked=True, of=("self",))
                        .select_related("tenant", "plan", "price__plan", "scheduled_price__plan")
                        .filter(pk=subscription_id, status__in=BILLED_STATUSES, current_period_end__lte=now)
                        .first())
        if subscription is None:
            return False
        invoice = _cycle_invoice_issue(subscription, now=now)
        if invoice is not None:
            result.invoices_created += 1
            if invoice.status != Invoice.Status.DRAFT:
                result.invoices_finalized += 1
        if not _subscription_roll(subscription, now=now):
            result.subscriptions_ended += 1
            return False
        result.subscriptions_rolled += 1
    return subscription.current_period_end <= now


def _cycle_invoice_issue(subscription: Subscription, *, now: datetime) -> Invoice | None:
    """The draft invoice of the closing period, or None when the period has one already or nothing to bill (a
    subscription ending with its period, with no usage charges, owed tokens or pending items)."""
    already = Invoice.objects.filter(subscription=subscription, billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE,
                                     period_start=subscription.current_period_start).exists()
    if already:
        return None
    return invoice_issue(tenant=subscription.tenant, subscription=subscription,
                         draft=cycle_invoice_draft(subscription=subscription, now=now),
                         billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE, now=now)


def _subscription_roll(subscription: Subscription, *, now: datetime) -> bool:
    """Move the subscription into its next period, taking on a scheduled price or seat count, or end it when it
    was canceled at period end; record the change. Returns False when it ended."""
    before = _state(subscription)
    plan_before = subscription.plan_id
    if subscription.cancel_at_period_end:
        subscription.status = Status.CANCELED
        subscription.ended_at = subscription.current_period_end
        subscription.canceled_at = subscription.canceled_at or now
        action = "ended"
    else:
        start, end = subscription_next_period(subscription=subscription)
        if subscription.scheduled_price is not None:
            subscription.price = subscription.scheduled_price
            subscription.plan = subscription.price.plan
        if subscription.scheduled_quantity is not None:
            subscription.quantity = subscription.scheduled_quantity
        subscription.scheduled_price, subscription.scheduled_quantity = None, None
        subscription.current_period_start, subscription.current_period_end = start, end
        action = "renewed"
    subscription.save()
    SubscriptionEvent.objects.create(subscription=subscription, tenant_id=subscription.tenant_id, action=action,
                                     actor=SYSTEM_ACTOR, before=before, after=_state(subscription), created_at=now)
    if action == "ended" or subscription.plan_id != plan_before:
        lookup_forget(entitlements_key(subscription.tenant_id))
    return action == "renewed"


def _state(subscription: Subscription) -> dict[str, object]:
    return {
        "status": subscription.status, "price": subscription.price.code, "plan": subscription.plan.code,
        "quantity": subscription.quantity,
        "current_period_start": subscription.current_period_start.isoformat(),
        "current_period_end": subscription.current_period_end.isoformat(),
        "scheduled_price": subscription.scheduled_price.code if subscription.scheduled_price else None,
        "scheduled_quantity": subscription.scheduled_quantity,
        "cancel_at_period_end": subscription.cancel_at_period_end,
    }


def _drafts_finalize(*, now: datetime, result: BillingRunResult) -> None:
    """Finalise the draft invoices whose draft period ended by `now`, each in its own transaction, skipping any
    another run (or an operator) holds."""
    due = Invoice.objects.filter(status=Invoice.Status.DRAFT, finalize_after__lte=now).order_by("pk")
    for invoice_id in list(due.values_list("pk", flat=True)):
        try:
            with transaction.atomic():
                invoice = (Invoice.objects.select_for_update(skip_locked=True)
                           .filter(pk=invoice_id, status=Invoice.Status.DRAFT).first())
                if invoice is None:
                    continue
                invoice_finalize(invoice=invoice, now=now)
                result.invoices_finalized += 1
        except Exception:
            logger.exception("billing_run_finalize_failed invoice=%s", invoice_id)
            result.failed_invoices.append(invoice_id)


def _overdue_mark(*, now: datetime, result: BillingRunResult) -> None:
    """Active subscriptions with an open invoice past its due date become past due (their plan lasts the grace
    period; paying clears it)."""
    overdue = (Subscription.objects.filter(status=Status.ACTIVE, invoices__status=Invoice.Status.OPEN,
                                           invoices__due_at__lte=now)
               .distinct().order_by("pk"))
    for subscription in overdue:
        try:
            subscription_past_due_mark(subscription=subscription, now=now)
        except Exception:
            # E.g. paused or canceled since it was read: the next run reads it again.
            logger.exception("billing_run_past_due_failed subscription=%s", subscription.pk)
            continue
        result.subscriptions_past_due += 1
