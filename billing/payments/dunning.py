"""Dunning: collecting a Stripe-collected subscription invoice whose card payment failed.

The first failure (a decline, no card, or a bank that wants the cardholder) opens the invoice's DunningCase and
moves the subscription to past due (billing 1's grace rule then decides its entitlements). The case retries on
settings.BILLING_DUNNING_RETRY_DAYS, counted from that first failure (default 1, 3, 5 and 7 days), each retry a
new attempt charged by the payment rail's invoice_charge_task with that attempt's Idempotency-Key, and every
failed attempt is announced to the owners and billing members once (billing.payments.dunning_notices).

- Paid at any point, by card or by hand: the case is recovered (billing.signals clears the past due).
- A new default card: one immediate retry per card, however many card events Stripe sends for it.
- A bank that wants the cardholder (SCA): no retries, which would only fail the same way; the case waits for the
  customer (one email with the hosted page) until the last retry day, or until a new card.
- The last retry fails (or the wait ends unpaid): the invoice becomes uncollectible and the subscription is
  canceled or left past due on Free entitlements, per settings.BILLING_DUNNING_FINAL_ACTION.
- Voided or written off by hand: the case closes.
- Ops may retry an active case at once or close it (the admin's actions: dunning_retry_now, dunning_close).
- A card refused on the invoice's hosted page (pay now) is the customer's to retry there: dunning ignores it.

Every decision is taken on the case row, locked: the beat job (`dunning_retries_run`, every 15 minutes) skips a
case another run holds, and moves `next_attempt_at` before it enqueues the charge, so two runs, or a run and a
card event, never ask for the same retry twice; a charge task that runs twice reaches one PaymentIntent (the
attempt's Idempotency-Key). Receivers run after the payment rail's and invoicing's transactions commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.dispatch import receiver
from django.utils import timezone

from billing.errors import BillingError
from billing.invoicing.events import invoice_paid, invoice_voided
from billing.invoicing.services import invoice_mark_uncollectible
from billing.models import DunningCase, Invoice, Payment, Subscription
from billing.payments import stripe_api
from billing.payments.errors import DunningCaseInvalid, PaymentsNotConfigured
from billing.payments.events import payment_action_required, payment_failed, payment_method_changed
from billing.payments.services import STRIPE_COLLECTION, stripe_customer_ensure
from billing.payments.tasks import invoice_charge_task
from billing.subscriptions.services import subscription_cancel, subscription_past_due_mark
from tenants.models import Tenant

logger = logging.getLogger(__name__)

ACTOR = "dunning"
Status = DunningCase.Status
FINAL_CANCEL = "cancel"
FINAL_FREE = "free"
# After the last retry is asked for, how long its answer may take before the case ends without it.
VERDICT_WAIT = timedelta(days=1)


class NoticeKind:
    FAILED = "failed"
    ACTION_REQUIRED = "action_required"
    EXHAUSTED = "exhausted"


@dataclass(frozen=True)
class DunningRunResult:
    retried: int = 0
    exhausted: int = 0
    ended: int = 0  # recovered or closed: the invoice was settled some other way


# --- Receivers ---------------------------------------------------------------------------------------------------

@receiver(payment_failed, dispatch_uid="billing.payments.dunning:payment_failed")
def payment_failed_dun(sender, payment: Payment, **kwargs) -> None:
    # A card refused on the hosted page (pay now) is the customer's to try again there, not a collection attempt:
    # it neither opens a case nor moves one on.
    if payment.source != Payment.Source.CHECKOUT:
        dunning_failure_record(payment=payment, now=timezone.now())


@receiver(payment_action_required, dispatch_uid="billing.payments.dunning:payment_action_required")
def payment_action_required_wait(sender, payment: Payment, **kwargs) -> None:
    if payment.source != Payment.Source.CHECKOUT:  # the cardholder is on the page, authenticating
        dunning_action_wait(payment=payment, now=timezone.now())


@receiver(payment_method_changed, dispatch_uid="billing.payments.dunning:payment_method_changed")
def payment_method_changed_retry(sender, tenant_id: int, **kwargs) -> None:
    dunning_card_changed(tenant_id=tenant_id, now=timezone.now())


@receiver(invoice_paid, dispatch_uid="billing.payments.dunning:invoice_paid")
def invoice_paid_recover(sender, invoice: Invoice, **kwargs) -> None:
    dunning_end(invoice=invoice, status=Status.RECOVERED, now=timezone.now())


@receiver(invoice_voided, dispatch_uid="billing.payments.dunning:invoice_voided")
def invoice_voided_close(sender, invoice: Invoice, **kwargs) -> None:
    dunning_end(invoice=invoice, status=Status.CLOSED, now=timezone.now())


# --- Services ----------------------------------------------------------------------------------------------------

def dunning_failure_record(*, payment: Payment, now: datetime) -> DunningCase | None:
    """An attempt to collect the invoice failed: open its case (the first failure, which makes the subscription
    past due) or move the open one on: the next retry is the schedule's next slot, and the failure of the last
    retry exhausts the case. The owners hear of each failed attempt once (the last one as the end of dunning).
    None for an invoice dunning does not collect (manual collection, no subscription, no longer open).

    A failure older than the attempt the case last asked for (a late event) changes nothing but its email."""
    with transaction.atomic():
        case = _case_for_failure(payment, now=now)
        if case is None or not case.is_active:
            return case
        if payment.attempt < case.last_attempt:
            _notice_queue(NoticeKind.FAILED, case=case, payment=payment)
        elif case.retries_made >= len(_retry_days()):
            case.last_attempt = payment.attempt
            _exhaust(case, now=now)
        else:
            case.last_attempt = payment.attempt
            case.action_required_since = None
            case.next_attempt_at = _slot_at(case, case.retries_made)
            case.save()
            _notice_queue(NoticeKind.FAILED, case=case, payment=payment)
    logger.info("dunning_failure invoice=%s attempt=%s case=%s status=%s next=%s", payment.invoice_id,
                payment.attempt, case.pk, case.status, case.next_attempt_at)
    return case


def dunning_action_wait(*, payment: Payment, now: datetime) -> DunningCase | None:
    """The bank wants the cardholder to authenticate: open the case (or take the open one) and wait for the
    customer, without retries, until the schedule's last day. The owners get the hosted payment page once."""
    with transaction.atomic():
        case = _case_for_failure(payment, now=now)
        if case is None or not case.is_active:
            return case
        _notice_queue(NoticeKind.ACTION_REQUIRED, case=case, payment=payment)
        if payment.attempt >= case.last_attempt:
            case.last_attempt = payment.attempt
            case.action_required_since = now
            case.next_attempt_at = max(_slot_at(case, len(_retry_days()) - 1), now)
            case.save()
    logger.info("dunning_action_required invoice=%s attempt=%s case=%s", payment.invoice_id, payment.attempt,
                case.pk)
    return case


def dunning_card_changed(*, tenant_id: int, now: datetime) -> list[DunningCase]:
    """The tenant's default card changed: retry each of its active cases at once with the new card, once per card
    (Stripe tells of one change with several events). The schedule keeps its days; the retry uses up the slots
    already due, so it is not followed minutes later by a scheduled one. Returns the cases retried."""
    active = DunningCase.objects.filter(tenant_id=tenant_id, status=Status.ACTIVE)
    case_ids = list(active.values_list("pk", flat=True))
    if not case_ids:
        return []
    tenant = Tenant.objects.get(pk=tenant_id)
    try:
        card = stripe_api.customer_retrieve(stripe_customer_ensure(tenant=tenant).id).default_payment_method_id
    except BillingError as error:
        # Stripe unreachable: the scheduled retries still come (and charge the new default card).
        logger.warning("dunning_card_check_failed tenant=%s reason=%s", tenant_id, error.code)
        return []
    if card is None:  # the card was removed, not replaced
        return []
    retried = []
    for case_id in case_ids:
        with transaction.atomic():
            case = active.select_for_update().filter(pk=case_id).first()
            if case is None or case.card_retried == card:
                continue
            case.card_retried = card
            case.action_required_since = None
            case.retries_made = max(case.retries_made, _slots_due(case, now))
            if case.retries_made < len(_retry_days()):
                case.next_attempt_at = _slot_at(case, case.retries_made)
            _retry_enqueue(case, now=now)
            retried.append(case)
    logger.info("dunning_card_changed tenant=%s card=%s cases_retried=%s", tenant_id, card, len(retried))
    return retried


def dunning_retries_run(*, now: datetime) -> DunningRunResult:
    """The beat job: act on every active case that is due. Each case in its own transaction, locked with SKIP
    LOCKED, so concurrent runs share the work and never act twice on one case. A due case whose invoice was
    settled meanwhile ends; one waiting for the cardholder, or whose retries are all used, is exhausted; any other
    is retried (the charge is enqueued once the case is saved)."""
    due = DunningCase.objects.filter(status=Status.ACTIVE, next_attempt_at__lte=now)
    counts = {"retried": 0, "exhausted": 0, "ended": 0}
    for case_id in list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)):
        with transaction.atomic():
            case = due.select_for_update(skip_locked=True).filter(pk=case_id).first()
            if case is None:
                continue
            counts[_case_advance(case, now=now)] += 1
    result = DunningRunResult(**counts)
    logger.info("dunning_run now=%s retried=%s exhausted=%s ended=%s", now.isoformat(), result.retried,
                result.exhausted, result.ended)
    return result


def dunning_end(*, invoice: Invoice, status: str, now: datetime) -> DunningCase | None:
    """End the invoice's active case: recovered (the invoice was paid) or closed (voided); None without one."""
    with transaction.atomic():
        case = DunningCase.objects.select_for_update().filter(invoice_id=invoice.pk, status=Status.ACTIVE).first()
        if case is None:
            return None
        _case_end(case, status=status, now=now)
    logger.info("dunning_ended invoice=%s case=%s status=%s", invoice.pk, case.pk, status)
    return case


def dunning_retry_now(*, case: DunningCase, actor: str, now: datetime) -> DunningCase:
    """Ops retry an active case at once (the customer says the card is fine again, say): one new attempt, charged
    once the case is saved. Like a new card's retry it uses up the schedule's slots already due, so no scheduled
    retry follows minutes later; its failure moves the case on as any other. Refused (DunningCaseInvalid) for a
    case that has ended or whose invoice is no longer open, and without Stripe (PaymentsNotConfigured)."""
    if not stripe_api.stripe_enabled():
        raise PaymentsNotConfigured("Stripe is not configured: there is no card to charge.")
    with transaction.atomic():
        case = _active_locked(case)
        if Invoice.objects.filter(pk=case.invoice_id).values_list("status", flat=True).get() != Invoice.Status.OPEN:
            raise DunningCaseInvalid("Its invoice is no longer open: the next dunning run ends the case.")
        case.action_required_since = None
        case.retries_made = max(case.retries_made, _slots_due(case, now))
        if case.retries_made < len(_retry_days()):
            case.next_attempt_at = _slot_at(case, case.retries_made)
        _retry_enqueue(case, now=now)
    logger.info("dunning_retry_now invoice=%s case=%s attempt=%s actor=%s", case.invoice_id, case.pk,
                case.last_attempt, actor)
    return case


def dunning_close(*, case: DunningCase, actor: str, now: datetime) -> DunningCase:
    """Ops stop dunning an invoice (they collect it another way): the case closes, nothing more is charged or
    emailed. The invoice stays open and the subscription as it is (past due until the invoice is paid or its
    grace ends). Refused (DunningCaseInvalid) for a case that has already ended."""
    with transaction.atomic():
        case = _active_locked(case)
        _case_end(case, status=Status.CLOSED, now=now)
    logger.info("dunning_closed_by_hand invoice=%s case=%s actor=%s", case.invoice_id, case.pk, actor)
    return case


# --- The case ----------------------------------------------------------------------------------------------------

def _case_for_failure(payment: Payment, *, now: datetime) -> DunningCase | None:
    """The invoice's case, locked; opened (with the subscription made past due) at its first failure."""
    invoice = Invoice.objects.select_related("subscription").get(pk=payment.invoice_id)
    case = DunningCase.objects.select_for_update().filter(invoice=invoice).first()
    if case is not None:
        return case
    if invoice.collection_method != STRIPE_COLLECTION or invoice.subscription_id is None \
            or invoice.status != Invoice.Status.OPEN:
        return None
    try:
        with transaction.atomic():
            case = DunningCase.objects.create(tenant_id=invoice.tenant_id, invoice=invoice,
                                              subscription_id=invoice.subscription_id, started_at=now,
                                              next_attempt_at=now)
    except IntegrityError:  # opened by a concurrent failure of the same invoice
        return DunningCase.objects.select_for_update().get(invoice=invoice)
    if invoice.subscription.status == Subscription.Status.ACTIVE:
        subscription_past_due_mark(subscription=invoice.subscription, now=now)
    logger.info("dunning_opened invoice=%s case=%s", invoice.pk, case.pk)
    return DunningCase.objects.select_for_update().get(pk=case.pk)


def _active_locked(case: DunningCase) -> DunningCase:
    locked = DunningCase.objects.select_for_update().filter(pk=case.pk).first()
    if locked is None or not locked.is_active:
        raise DunningCaseInvalid("This dunning case has ended.")
    return locked


def _case_advance(case: DunningCase, *, now: datetime) -> str:
    invoice = Invoice.objects.get(pk=case.invoice_id)
    if invoice.status != Invoice.Status.OPEN:
        _case_end(case, status=Status.RECOVERED if invoice.status == Invoice.Status.PAID else Status.CLOSED, now=now)
        return "ended"
    if case.action_required_since is not None or case.retries_made >= len(_retry_days()):
        _exhaust(case, now=now)
        return "exhausted"
    case.retries_made = max(case.retries_made + 1, _slots_due(case, now))
    last = case.retries_made >= len(_retry_days())
    case.next_attempt_at = now + VERDICT_WAIT if last else _slot_at(case, case.retries_made)
    _retry_enqueue(case, now=now)
    return "retried"


def _retry_enqueue(case: DunningCase, *, now: datetime) -> None:
    """Take the invoice's next attempt number and charge it once the case is saved. The number is beyond every
    attempt recorded (a payment on the hosted page takes one too), so the attempt is a new charge. When it was
    asked for is kept, for the lost-charge job (billing.payments.lost_charges) to tell a lost retry."""
    recorded = Payment.objects.filter(invoice_id=case.invoice_id).aggregate(last=Max("attempt"))["last"] or 0
    case.last_attempt = max(case.last_attempt, recorded) + 1
    case.last_attempt_asked_at = now
    case.save()
    invoice_id, attempt = case.invoice_id, case.last_attempt
    transaction.on_commit(lambda: invoice_charge_task.delay(invoice_id=invoice_id, attempt=attempt))
    logger.info("dunning_retry invoice=%s attempt=%s case=%s", invoice_id, attempt, case.pk)


def _exhaust(case: DunningCase, *, now: datetime) -> None:
    """The last retry failed (or the customer never acted): the invoice is uncollectible, the subscription is
    canceled or left past due (Free once its grace is over), and the owners are told."""
    invoice = Invoice.objects.get(pk=case.invoice_id)
    if invoice.status == Invoice.Status.OPEN:
        invoice_mark_uncollectible(invoice=invoice, actor=ACTOR, now=now)
    _case_end(case, status=Status.EXHAUSTED, now=now)
    subscription = Subscription.objects.filter(pk=case.subscription_id).first()
    if subscription is not None and subscription.is_current:
        if settings.BILLING_DUNNING_FINAL_ACTION == FINAL_FREE:
            if subscription.status == Subscription.Status.ACTIVE:
                subscription_past_due_mark(subscription=subscription, now=now)
        else:
            subscription_cancel(subscription=subscription, actor=ACTOR, now=now, at_period_end=False)
    _notice_queue(NoticeKind.EXHAUSTED, case=case)
    logger.info("dunning_exhausted invoice=%s case=%s final_action=%s", case.invoice_id, case.pk,
                settings.BILLING_DUNNING_FINAL_ACTION)


def _case_end(case: DunningCase, *, status: str, now: datetime) -> None:
    case.status, case.ended_at, case.next_attempt_at = status, now, None
    case.save()


# --- The schedule ------------------------------------------------------------------------------------------------

def _retry_days() -> tuple[int, ...]:
    return tuple(settings.BILLING_DUNNING_RETRY_DAYS)


def _slot_at(case: DunningCase, index: int) -> datetime:
    return case.started_at + timedelta(days=_retry_days()[index])


def _slots_due(case: DunningCase, now: datetime) -> int:
    """How many of the schedule's retry days have come by `now`."""
    return sum(1 for index in range(len(_retry_days())) if _slot_at(case, index) <= now)


def dunning_retries_left(case: DunningCase) -> int:
    return max(len(_retry_days()) - case.retries_made, 0)


# --- Notices -----------------------------------------------------------------------------------------------------

def _notice_queue(kind: str, *, case: DunningCase, payment: Payment | None = None) -> None:
    kwargs = {"kind": kind, "case_id": case.pk, "payment_id": payment.pk if payment else None}
    # By name: billing.tasks imports this module.
    transaction.on_commit(lambda: current_app.signature("billing.dunning_notice_send", kwargs=kwargs).delay())
