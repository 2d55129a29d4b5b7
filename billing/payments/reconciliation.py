"""The daily reconciliation of our payments with Stripe's PaymentIntents (beat: billing.stripe_reconcile, 03:00 UTC;
by hand: `./dev manage stripe_reconcile`).

A webhook Stripe never delivered (or gave up on) must not leave an invoice unpaid in our books while Stripe has the
money. Each run retrieves, one call per intent, the PaymentIntent of every payment still waiting (requires action,
processing), of every payment settled in the last BILLING_RECONCILIATION_LOOKBACK_DAYS days (so an invoice we
marked paid is checked against Stripe once more), and of every payment an open disagreement is about. What a
missed webhook left behind is settled through the very service the webhooks use (`payment_intent_apply`), so it
happens once whichever comes first, the run or the late delivery; the StripeSettlement rows it writes carry no
event id and the run's id in their detail (`"reconciled_by_run"`), which is the audit entry.

What cannot be settled becomes a ReconciliationDisagreement for ops (one open row per kind and intent; the next run
updates it, and resolves it itself, resolved_by "reconciliation", once Stripe and our books agree again). A
disagreement ops resolved by hand is not raised again for the same intent.

Each payment is reconciled in its own transaction, so a run that stops (Stripe unreachable: PaymentProviderUnavailable
propagates, the task retries later) leaves every payment either fully settled or untouched, and its run row says
how far it got (no finished_at)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from billing.errors import BillingError
from billing.models import Invoice, Payment, ReconciliationDisagreement, ReconciliationRun, StripeSettlement
from billing.payments import stripe_api
from billing.payments.errors import PaymentObjectMissing, PaymentProviderError, PaymentProviderUnavailable
from billing.payments.services import payment_action_url_ensure, payment_intent_apply
from billing.payments.stripe_api import StripePaymentIntent
from config.money import Money, money_to_api

logger = logging.getLogger(__name__)

RESOLVER = "reconciliation"
CHUNK_SIZE = 200
Kind = ReconciliationDisagreement.Kind
Status = Payment.Status
WAITING = (Status.REQUIRES_ACTION, Status.PROCESSING)
# What the payment service records as unmatched money (StripeSettlement detail "reason") as a disagreement.
UNMATCHED_KINDS = {"currency_mismatch": Kind.CURRENCY_MISMATCH, "amount_short": Kind.AMOUNT_MISMATCH}


class DisagreementAlreadyResolved(BillingError):
    code = "reconciliation_disagreement_resolved"
    status = 409


@dataclass(frozen=True)
class Finding:
    message: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentOutcome:
    payment: Payment
    settled: bool
    disagreements: int


def stripe_reconcile(*, now: datetime) -> ReconciliationRun:
    """Compare every payment worth checking (see the module) with Stripe's PaymentIntent, settle what a missed
    webhook left behind and record what cannot be settled. Returns the run, finished.

    Stripe unreachable (after the SDK's own retries) raises PaymentProviderUnavailable once the run row has what
    was done so far; each payment is settled in one transaction or not at all, so running again is always safe.
    Stripe not configured raises PaymentsNotConfigured at the first payment (the task does not run then)."""
    run = ReconciliationRun.objects.create(started_at=now)
    invoices: set[int] = set()
    try:
        for chunk in _chunks(_payments_to_check(now=now)):
            for payment in Payment.objects.filter(pk__in=chunk).order_by("pk"):
                outcome = _payment_reconcile(payment, run=run, now=now)
                if outcome is None:
                    continue
                invoices.add(payment.invoice_id)
                run.payments_settled += outcome.settled
                run.disagreements += outcome.disagreements
                if _action_page_missing(outcome.payment):
                    # As the webhook would have: the cardholder gets the hosted page to authenticate on.
                    payment_action_url_ensure(payment=outcome.payment)
            _run_progress_save(run, invoices)
    except PaymentProviderUnavailable:
        _run_progress_save(run, invoices)
        logger.warning("stripe_reconcile_interrupted run=%s invoices_checked=%s payments_settled=%s", run.pk,
                       run.invoices_checked, run.payments_settled)
        raise
    run.finished_at = timezone.now()
    run.save(update_fields=["finished_at"])
    logger.info("stripe_reconcile_finished run=%s invoices_checked=%s payments_settled=%s disagreements=%s",
                run.pk, run.invoices_checked, run.payments_settled, run.disagreements)
    return run


@transaction.atomic
def reconciliation_disagreement_resolve(*, disagreement: ReconciliationDisagreement, actor: str, note: str,
                                        now: datetime) -> ReconciliationDisagreement:
    """Ops close a disagreement they have dealt with (refunded the stray payment, settled the invoice by hand...),
    saying how in `note`. Refused when it is already resolved. The same disagreement is not raised again."""
    locked = ReconciliationDisagreement.objects.select_for_update().get(pk=disagreement.pk)
    if locked.status != ReconciliationDisagreement.Status.OPEN:
        raise DisagreementAlreadyResolved(f"{locked} was already resolved by {locked.resolved_by}.")
    locked.status = ReconciliationDisagreement.Status.RESOLVED
    locked.resolved_at, locked.resolved_by, locked.resolution_note = now, actor[:254], note
    locked.save(update_fields=["status", "resolved_at", "resolved_by", "resolution_note"])
    logger.info("reconciliation_disagreement_resolved id=%s kind=%s stripe_id=%s by=%s", locked.pk, locked.kind,
                locked.stripe_id, actor)
    return locked


def _run_progress_save(run: ReconciliationRun, invoices: set[int]) -> None:
    run.invoices_checked = len(invoices)
    run.save(update_fields=["invoices_checked", "payments_settled", "disagreements"])


# --- One payment -------------------------------------------------------------------------------------------------

def _payments_to_check(*, now: datetime) -> QuerySet[Payment]:
    since = now - timedelta(days=settings.BILLING_RECONCILIATION_LOOKBACK_DAYS)
    in_disagreement = (ReconciliationDisagreement.objects.filter(status=ReconciliationDisagreement.Status.OPEN)
                       .values("stripe_id"))
    return (Payment.objects.filter(payment_intent_id__isnull=False)
            .filter(Q(status__in=WAITING) | Q(settled_at__gte=since) | Q(payment_intent_id__in=in_disagreement))
            .order_by("pk"))


def _chunks(payments: QuerySet[Payment]) -> Iterator[list[int]]:
    """The payments' ids CHUNK_SIZE at a time, by keyset (a payment settled meanwhile neither shifts nor repeats
    a page)."""
    last = 0
    while True:
        ids = list(payments.filter(pk__gt=last).values_list("pk", flat=True)[:CHUNK_SIZE])
        if not ids:
            return
        yield ids
        last = ids[-1]


def _payment_reconcile(payment: Payment, *, run: ReconciliationRun, now: datetime) -> PaymentOutcome | None:
    """None when Stripe refused to answer about this one intent (logged; the next run asks again)."""
    try:
        intent = stripe_api.payment_intent_retrieve(payment.payment_intent_id)
    except PaymentObjectMissing:
        findings = {Kind.INTENT_MISSING: Finding(
            f"Stripe has no PaymentIntent {payment.payment_intent_id}; our payment is {payment.status}.",
            {"ours": payment.status})}
        with transaction.atomic():
            return PaymentOutcome(payment=payment, settled=False,
                                  disagreements=_disagreements_record(payment, findings, run=run, now=now))
    except PaymentProviderError as error:  # a request Stripe refuses (not an outage): one intent, not the run
        logger.warning("stripe_reconcile_skipped run=%s payment_intent=%s code=%s", run.pk,
                       payment.payment_intent_id, error.details.get("stripe_code", ""))
        return None
    with transaction.atomic():
        status_before = payment.status
        settled_before = _settlement_ids(intent.id)
        applied = payment_intent_apply(intent=intent, now=now)
        new_settlements = _settlement_ids(intent.id) - settled_before
        if new_settlements:
            _settlements_mark(new_settlements, run=run)
        current = applied or Payment.objects.get(pk=payment.pk)
        settled = bool(new_settlements) or current.status != status_before
        if settled:
            logger.info("stripe_reconcile_settled run=%s payment_intent=%s invoice=%s was=%s now=%s", run.pk,
                        intent.id, current.invoice_id, status_before, current.status)
        disagreements = _disagreements_record(current, _findings(current, intent=intent, applied=applied is not None),
                                              run=run, now=now)
    return PaymentOutcome(payment=current, settled=settled, disagreements=disagreements)


def _action_page_missing(payment: Payment) -> bool:
    return (payment.status == Status.REQUIRES_ACTION and not payment.action_url
            and Invoice.objects.filter(pk=payment.invoice_id, status=Invoice.Status.OPEN).exists())


def _findings(payment: Payment, *, intent: StripePaymentIntent, applied: bool) -> dict[str, Finding]:
    """Where our books and Stripe's intent still disagree once everything settleable is settled, by kind."""
    findings: dict[str, Finding] = {}
    ours = Money(payment.amount, payment.currency)
    figures = {"ours": money_to_api(ours), "stripe": money_to_api(intent.amount), "ours_status": payment.status,
               "stripe_status": intent.status}
    if intent.amount.currency != ours.currency:
        findings[Kind.CURRENCY_MISMATCH] = Finding(
            f"Stripe's intent is in {intent.amount.currency}; our payment in {ours.currency}.", figures)
    elif intent.amount.amount != ours.amount:
        findings[Kind.AMOUNT_MISMATCH] = Finding(
            f"Stripe's intent asks {intent.amount.amount} {intent.amount.currency}; our payment "
            f"{ours.amount} {ours.currency}.", figures)
    unmatched = (StripeSettlement.objects.filter(kind=StripeSettlement.Kind.PAYMENT_UNMATCHED, stripe_id=intent.id)
                 .values_list("detail", flat=True).first())
    if unmatched is not None:
        reason = unmatched.get("reason", "")
        kind = UNMATCHED_KINDS.get(reason) or (Kind.PAID_ELSEWHERE if reason.startswith("invoice_")
                                               else Kind.STATE_MISMATCH)
        findings[kind] = Finding(_unmatched_message(reason, unmatched), {**figures, **unmatched})
    if not applied:
        findings[Kind.STATE_MISMATCH] = Finding(
            "Stripe's intent does not belong to the invoice's tenant (customer or metadata): nothing was settled.",
            {**figures, "customer": intent.customer_id or ""})
    elif payment.status == Status.SUCCEEDED and intent.status != "succeeded":
        findings[Kind.STATE_MISMATCH] = Finding(
            f"Our payment succeeded (the invoice counts it paid) but Stripe's intent is {intent.status}.", figures)
    return findings


def _unmatched_message(reason: str, detail: dict[str, Any]) -> str:
    if reason == "amount_short":
        return f"Stripe received {detail.get('received')}; the invoice asked {detail.get('due')}: not settled."
    if reason == "currency_mismatch":
        return f"Stripe received {detail.get('received')}, not the invoice's currency: not settled."
    if reason.startswith("invoice_"):
        return (f"Stripe has the money ({detail.get('received')}) but the invoice is "
                f"{reason.removeprefix('invoice_')}: refund it or settle it by hand.")
    return f"Stripe has the money but it settles no invoice of ours ({reason})."


def _disagreements_record(payment: Payment, findings: dict[str, Finding], *, run: ReconciliationRun,
                          now: datetime) -> int:
    """Bring the intent's open disagreements to `findings`: new ones opened, those still there seen again, those
    gone resolved. Returns how many are open."""
    stripe_id = payment.payment_intent_id
    rows = ReconciliationDisagreement.objects.select_for_update().filter(stripe_id=stripe_id)
    open_rows = {row.kind: row for row in rows.filter(status=ReconciliationDisagreement.Status.OPEN)}
    for kind, row in open_rows.items():
        if kind not in findings:
            row.status, row.resolved_at, row.resolved_by = ReconciliationDisagreement.Status.RESOLVED, now, RESOLVER
            row.resolution_note = f"Stripe and our books agreed again (run {run.pk})."
            row.save(update_fields=["status", "resolved_at", "resolved_by", "resolution_note"])
    if not findings:
        return 0
    dismissed = set(rows.filter(status=ReconciliationDisagreement.Status.RESOLVED)
                    .exclude(resolved_by=RESOLVER).values_list("kind", flat=True))
    recorded = 0
    for kind, finding in findings.items():
        row = open_rows.get(kind)
        if row is not None:
            row.message, row.detail, row.last_seen_at = finding.message[:500], finding.detail, now
            row.save(update_fields=["message", "detail", "last_seen_at"])
        elif kind in dismissed:
            continue
        else:
            try:
                with transaction.atomic():
                    ReconciliationDisagreement.objects.create(
                        kind=kind, stripe_id=stripe_id, tenant_id=payment.tenant_id, invoice_id=payment.invoice_id,
                        payment=payment, first_run=run, message=finding.message[:500], detail=finding.detail,
                        first_seen_at=now, last_seen_at=now)
            except IntegrityError:  # a concurrent run opened it first
                pass
            logger.warning("stripe_reconcile_disagreement run=%s kind=%s payment_intent=%s invoice=%s", run.pk, kind,
                           stripe_id, payment.invoice_id)
        recorded += 1
    return recorded


def _settlement_ids(stripe_id: str) -> set[int]:
    return set(StripeSettlement.objects.filter(stripe_id=stripe_id).values_list("pk", flat=True))


def _settlements_mark(ids: set[int], *, run: ReconciliationRun) -> None:
    """The audit entry: these settlements were made by reconciliation, not by a webhook (whose event id they lack)."""
    for settlement in StripeSettlement.objects.filter(pk__in=ids):
        settlement.detail = {**settlement.detail, "reconciled_by_run": run.pk}
        settlement.save(update_fields=["detail"])
