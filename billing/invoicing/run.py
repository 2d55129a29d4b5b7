"""The billing run: closes every subscription period that has ended into its invoice, exactly once, and rolls the
subscription into its next period; then finalises the drafts whose draft period is over.

Due subscriptions are taken in chunks (CHUNK_SIZE) and a chunk's periods are closed together, by the same
drafting code: usage read for the whole chunk in two queries per meter (metering's usage_for_periods over the
rollups), pending items, coupons and billing profiles in one query each, every invoice and every line
written in one INSERT each, the chunk's invoice numbers taken in one statement, every subscription rolled in
one UPDATE. What must be read or settled per period (owed AI tokens, a percentage charge, a unique_count
meter), a period already invoiced, a misconfigured price and a missed period after the first are closed one
subscription at a time (_period_close), as is every subscription of a chunk that failed.

Exactly once, whatever happens:
- one transaction per chunk, and per subscription period for the ones closed alone: the cycle invoices, their
  finalisation (when there is no draft period) and the rolls into the next period commit together or not at
  all, so a crash half-way leaves every period of the chunk due and the next run bills them from scratch;
  the chunk's invoice numbers are taken inside that transaction, so a rollback gives them all back (gapless);
- subscription rows are locked with SKIP LOCKED, so two runs at once share the work instead of waiting, and
  a run re-reads the rows under the lock (a period another run closed meanwhile is no longer due);
- the invoice_one_per_subscription_period unique constraint is the last word: an invoice for the period that
  exists already is never written again (checked under the lock, and the constraint refuses it anyway: a
  chunk that meets it rolls back whole and its subscriptions are closed one by one).
A rerun finds nothing due and creates nothing. A run that missed several periods bills them one by one.

Only active and past-due subscriptions are billed here. A trialing subscription's period is its trial: the run
first has the trials processed (billing.subscriptions: reminders due, conversions with their first invoice,
expiries) and emails the reminders. A paused subscription is not invoiced; canceled and expired ones are over.
Last, active subscriptions with an open invoice past its due date become past due."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models.signals import post_save
from django.utils import timezone

from billing.invoicing.drafting import (
    cycle_invoice_draft,
    cycle_invoice_drafts,
    cycle_invoices_issue,
    invoice_issue,
)
from billing.invoicing.services import invoice_finalize
from billing.models import BillingEmail, Invoice, Subscription, SubscriptionEvent, UsageCharge
from billing.notifications import billing_email_queue
from billing.selectors import entitlements_key
from billing.subscriptions.proration import subscription_next_period
from billing.subscriptions.services import subscription_past_due_mark, subscription_trials_process
from config.lookup_cache import lookup_forget
from metering.models import Meter, Wallet
from metering.usage.selectors import meters_by_code

logger = logging.getLogger(__name__)

Status = Subscription.Status
BILLED_STATUSES = (Status.ACTIVE, Status.PAST_DUE)
SYSTEM_ACTOR = "system"


# Subscriptions closed together in one transaction: large enough that a chunk's statements cost little per
# invoice, small enough that a chunk's locks and its rollback after a failure stay short.
CHUNK_SIZE = 500
# Every field _subscription_roll may change, for a whole chunk in one statement (nothing stays scheduled).
ROLL_SQL = """
UPDATE billing_subscription AS subscription
   SET status = batch.status, price_id = batch.price_id, plan_id = batch.plan_id, quantity = batch.quantity,
       current_period_start = batch.period_start, current_period_end = batch.period_end,
       canceled_at = batch.canceled_at, ended_at = batch.ended_at,
       scheduled_price_id = NULL, scheduled_quantity = NULL, updated_at = %(updated_at)s
  FROM unnest(%(ids)s::bigint[], %(statuses)s::text[], %(prices)s::bigint[], %(plans)s::bigint[],
              %(quantities)s::integer[], %(starts)s::timestamptz[], %(ends)s::timestamptz[],
              %(canceled_at)s::timestamptz[], %(ended_at)s::timestamptz[])
       AS batch(id, status, price_id, plan_id, quantity, period_start, period_end, canceled_at, ended_at)
 WHERE subscription.id = batch.id
"""


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
    due = list(Subscription.objects.filter(status__in=BILLED_STATUSES, current_period_end__lte=now)
               .order_by("current_period_end", "pk").values_list("pk", flat=True))
    for at in range(0, len(due), CHUNK_SIZE):
        chunk = due[at:at + CHUNK_SIZE]
        try:
            one_by_one = _chunk_close(chunk, now=now, result=result)
        except Exception:
            # Its transaction rolled back whole: every subscription of the chunk is billed one by one instead,
            # where a failure stops only its own.
            logger.exception("billing_run_chunk_failed first=%s size=%s", chunk[0], len(chunk))
            one_by_one = chunk
        for subscription_id in one_by_one:
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


def _chunk_close(subscription_ids: list[int], *, now: datetime, result: BillingRunResult) -> list[int]:
    """Close the periods of a chunk of due subscriptions in one transaction: lock those no other run holds,
    issue the cycle invoices of all but the unusual ones together (billing.invoicing.drafting's
    cycle_invoice_drafts and cycle_invoices_issue) and roll those together. Returns the subscriptions to close
    one by one with _period_close: the unusual ones (see _one_by_one), and those whose next period is due too.
    The counts reach `result` only once the chunk has committed."""
    with transaction.atomic():
        subscriptions = list(Subscription.objects.select_for_update(skip_locked=True, of=("self",))
                             .select_related("tenant", "plan", "price__plan", "scheduled_price__plan")
                             .filter(pk__in=subscription_ids, status__in=BILLED_STATUSES,
                                     current_period_end__lte=now)
                             .order_by("current_period_end", "pk"))
        unusual = _one_by_one(subscriptions)
        together = [subscription for subscription in subscriptions if subscription.pk not in unusual]
        invoices = cycle_invoices_issue(drafts=cycle_invoice_drafts(subscriptions=together, now=now), now=now)
        events = _subscriptions_roll(together, now=now)
    ended = sum(1 for event in events if event.action != "renewed")
    result.invoices_created += len(invoices)
    result.invoices_finalized += sum(1 for invoice in invoices.values() if invoice.status != Invoice.Status.DRAFT)
    result.subscriptions_rolled += len(events) - ended
    result.subscriptions_ended += ended
    still_due = [s.pk for s in together if s.status in BILLED_STATUSES and s.current_period_end <= now]
    return [pk for pk in subscription_ids if pk in unusual] + still_due


def _one_by_one(subscriptions: list[Subscription]) -> set[int]:
    """The subscriptions of a chunk that _period_close takes one at a time: owed AI tokens (their invoice
    settles the wallet), a percentage charge or a unique_count meter (read per period), a meter that does not
    exist or a scheduled price in another currency (so that the failure is that subscription's alone), and a
    period that has an invoice already."""
    if not subscriptions:
        return set()
    unusual = {s.pk for s in subscriptions
               if s.scheduled_price is not None and s.scheduled_price.currency != s.price.currency}
    owing = set(Wallet.objects.filter(tenant_id__in={s.tenant_id for s in subscriptions}, owed__gt=0)
                .values_list("tenant_id", flat=True))
    unusual |= {s.pk for s in subscriptions if s.tenant_id in owing}
    invoiced = set(Invoice.objects.filter(subscription_id__in=[s.pk for s in subscriptions],
                                          billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE)
                   .values_list("subscription_id", "period_start"))
    unusual |= {s.pk for s in subscriptions if (s.pk, s.current_period_start) in invoiced}
    charges = list(UsageCharge.objects.filter(price_id__in={s.price_id for s in subscriptions}))
    meters = meters_by_code(codes={charge.meter_code for charge in charges})
    read_alone = {charge.price_id for charge in charges
                  if charge.charge_model == UsageCharge.ChargeModel.PERCENTAGE
                  or charge.meter_code not in meters
                  or meters[charge.meter_code].aggregation == Meter.Aggregation.UNIQUE_COUNT}
    unusual |= {s.pk for s in subscriptions if s.price_id in read_alone}
    return unusual


def _subscriptions_roll(subscriptions: list[Subscription], *, now: datetime) -> list[SubscriptionEvent]:
    """_subscription_roll for a chunk's subscriptions: the same change and the same event for each ("renewed",
    or "ended" for those canceled at the period's end), written with one UPDATE and one INSERT for all, and
    what saving each would have signalled (billing.signals: cached entitlements forgotten, the "ended" email)."""
    if not subscriptions:
        return []
    events = [_subscription_roll(subscription, now=now, write=False) for subscription in subscriptions]
    updated_at = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(ROLL_SQL, {
            "ids": [s.pk for s in subscriptions], "statuses": [s.status for s in subscriptions],
            "prices": [s.price_id for s in subscriptions], "plans": [s.plan_id for s in subscriptions],
            "quantities": [s.quantity for s in subscriptions],
            "starts": [s.current_period_start for s in subscriptions],
            "ends": [s.current_period_end for s in subscriptions],
            "canceled_at": [s.canceled_at for s in subscriptions], "ended_at": [s.ended_at for s in subscriptions],
            "updated_at": updated_at})
    for subscription in subscriptions:
        subscription.updated_at = updated_at
    SubscriptionEvent.objects.bulk_create(events)
    lookup_forget(*(entitlements_key(subscription.tenant_id) for subscription in subscriptions))
    for event in events:
        post_save.send(sender=SubscriptionEvent, instance=event, created=True, update_fields=None, raw=False,
                       using=connection.alias)
    return events


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
        renewed = _subscription_roll(subscription, now=now).action == "renewed"
    # Counted once committed: a period whose transaction rolled back counts nowhere.
    if invoice is not None:
        result.invoices_created += 1
        if invoice.status != Invoice.Status.DRAFT:
            result.invoices_finalized += 1
    if not renewed:
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


def _subscription_roll(subscription: Subscription, *, now: datetime, write: bool = True) -> SubscriptionEvent:
    """Move the subscription into its next period, taking on a scheduled price or seat count, or end it when it
    was canceled at period end; record the change and return its event ("renewed" or "ended"). With
    write=False only the instance changes and the event is returned unsaved (_subscriptions_roll writes a
    chunk's together)."""
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
    event = SubscriptionEvent(subscription=subscription, tenant_id=subscription.tenant_id, action=action,
                              actor=SYSTEM_ACTOR, before=before, after=_state(subscription), created_at=now)
    if not write:
        return event
    subscription.save()
    event.save(force_insert=True)
    if action == "ended" or subscription.plan_id != plan_before:
        lookup_forget(entitlements_key(subscription.tenant_id))
    return event


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
