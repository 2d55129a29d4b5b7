"""Payouts: each cycle, the approved commissions of an affiliate in one currency become one payout, if they add up
to the program's threshold (the same figure in every currency); ops then export them for PayPal or Wise and mark
them paid, or send them through Stripe Connect.

- A commission belongs to at most one payout (its foreign key), set under a row lock by an UPDATE that only takes
  commissions still without one, and a payout is one per (affiliate, cycle, currency) (a unique constraint): two
  batch runs at once, or one run twice, never pay a commission twice.
- Negative adjustments (claw-backs of commissions already paid out) are netted in the same sum; a payout is never
  negative nor zero (a check constraint): an affiliate whose claw-backs outweigh its new commissions waits until
  they are covered.
- Held commissions (a dispute, an open fraud flag) are not approved, so they wait; before an affiliate's first
  payout the minimum-paying-customers rule runs (affiliates.fraud)."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from affiliates.fraud.services import fraud_min_paying_customers_check
from affiliates.models import Affiliate, Commission, FraudFlag, Payout
from affiliates.program import program_get
from billing.payments.stripe_api import transfer_create
from config.errors import DomainError
from config.money import Money

logger = logging.getLogger(__name__)

Status = Payout.Status


class PayoutStateInvalid(DomainError):
    code = "payout_state_invalid"
    status = 409


class PayoutExportInvalid(DomainError):
    """Payouts that cannot go in one file (PayPal takes one currency per file)."""

    code = "payout_export_invalid"


@dataclass(frozen=True)
class PayoutRun:
    period_end: date
    created: list[Payout]
    below_threshold: int  # (affiliate, currency) pairs whose approved sum is under the threshold or not positive


def payout_period_end(*, now: datetime) -> date:
    """The cycle the monthly job pays on `now`: the previous month, up to its last day."""
    return now.date().replace(day=1) - timedelta(days=1)


def payouts_create(*, period_end: date, now: datetime) -> PayoutRun:
    """Batch the commissions approved up to the end of `period_end` (UTC) and not yet in a payout into one payout
    per affiliate and currency, where they add up to the program's threshold. Affiliates and agencies alike; a
    suspended affiliate waits. Running it again for the same cycle creates nothing new."""
    program = program_get()
    cutoff = datetime.combine(period_end + timedelta(days=1), time.min, tzinfo=UTC)
    due = (Commission.objects.filter(status=Commission.Status.APPROVED, payout__isnull=True, approved_at__lt=cutoff)
           .values_list("affiliate_id", flat=True).distinct())
    # Those waiting for enough paying customers too: their commissions are held until the rule lets them go.
    waiting = FraudFlag.objects.filter(rule=FraudFlag.Rule.MIN_PAYING_CUSTOMERS, status=FraudFlag.Status.OPEN,
                                       referral__isnull=True, commission__isnull=True).values("affiliate_id")
    affiliates = (Affiliate.objects.filter(Q(pk__in=due) | Q(pk__in=waiting), status=Affiliate.Status.ACTIVE)
                  .order_by("pk"))
    created, below = [], 0
    for affiliate in affiliates:
        if fraud_min_paying_customers_check(affiliate=affiliate, program=program, now=now) is not None:
            continue
        payouts, skipped = _affiliate_batch(affiliate=affiliate, period_end=period_end, cutoff=cutoff,
                                            threshold=program.payout_threshold, now=now)
        created += payouts
        below += skipped
    logger.info("payouts_created period_end=%s payouts=%s below_threshold=%s", period_end, len(created), below)
    return PayoutRun(period_end=period_end, created=created, below_threshold=below)


@transaction.atomic
def _affiliate_batch(*, affiliate: Affiliate, period_end: date, cutoff: datetime, threshold: Decimal,
                     now: datetime) -> tuple[list[Payout], int]:
    Affiliate.objects.select_for_update().filter(pk=affiliate.pk).first()  # one batch per affiliate at a time
    approved = Commission.objects.filter(affiliate=affiliate, status=Commission.Status.APPROVED,
                                         payout__isnull=True, approved_at__lt=cutoff)
    # Locked, then summed and taken by id: a claw-back written meanwhile (its earned commission is among these
    # rows, so it waits for this batch) cannot join a payout whose amount did not subtract it.
    by_currency: dict[str, list[tuple[int, Decimal]]] = {}
    for pk, currency, amount in approved.select_for_update().order_by("pk").values_list("pk", "currency", "amount"):
        by_currency.setdefault(currency, []).append((pk, amount))
    payouts, below = [], 0
    for currency, rows in sorted(by_currency.items()):
        total = sum((amount for _, amount in rows), Decimal(0))
        if total <= 0 or total < threshold:
            below += 1
            continue
        if Payout.objects.filter(affiliate=affiliate, period_end=period_end, currency=currency).exists():
            continue
        try:
            with transaction.atomic():
                payout = Payout.objects.create(affiliate=affiliate, amount=total, currency=currency,
                                               method=affiliate.payout_method, period_end=period_end, created_at=now)
        except IntegrityError:
            continue  # another run batched this cycle a moment ago
        taken = Commission.objects.filter(pk__in=[pk for pk, _ in rows]).update(payout=payout)
        logger.info("payout_created payout=%s affiliate=%s amount=%s currency=%s commissions=%s", payout.pk,
                    affiliate.pk, total, currency, taken)
        payouts.append(payout)
    return payouts, below


def payouts_export_csv(*, payouts: QuerySet[Payout], provider: str, actor: str, now: datetime) -> str:
    """The CSV file for PayPal or Wise of `payouts` (pending or exported ones; the others are refused), and each
    pending one marked exported.

    - paypal (Payouts Web upload): no header; one row per payout: recipient email, amount, currency, our
      reference, a note, the wallet (PAYPAL). PayPal takes one currency per file (PayoutExportInvalid otherwise).
    - wise (the batch "send by email" template): header name, recipientEmail, paymentReference, receiverType,
      amountCurrency, amount, sourceCurrency, targetCurrency; the amount fixed in the target currency, which is
      the payout's (Wise converts from the program's payout currency)."""
    if provider not in ("paypal", "wise"):
        raise PayoutExportInvalid(f"Export to paypal or wise, not {provider!r}.", field="provider")
    with transaction.atomic():
        rows = list(payouts.select_for_update(of=("self",)).select_related("affiliate").order_by("pk"))
        if any(p.status not in (Status.PENDING, Status.EXPORTED) for p in rows):
            raise PayoutStateInvalid("Only payouts not yet paid can be exported.")
        if provider == "paypal" and len({p.currency for p in rows}) > 1:
            raise PayoutExportInvalid("PayPal takes one currency per file: export each currency on its own.")
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if provider == "paypal":
            for payout in rows:
                writer.writerow([_payee_email(payout), f"{payout.amount:.2f}", payout.currency,
                                 payout_reference(payout), f"Tollgate affiliate commissions to {payout.period_end}",
                                 "PAYPAL"])
        else:
            writer.writerow(["name", "recipientEmail", "paymentReference", "receiverType", "amountCurrency", "amount",
                             "sourceCurrency", "targetCurrency"])
            source = program_get().payout_currency
            for payout in rows:
                writer.writerow([payout.affiliate.name, _payee_email(payout), payout_reference(payout), "PRIVATE",
                                 "target", f"{payout.amount:.2f}", source, payout.currency])
        Payout.objects.filter(pk__in=[p.pk for p in rows], status=Status.PENDING).update(
            status=Status.EXPORTED, exported_at=now)
    logger.info("payouts_exported provider=%s payouts=%s actor=%s", provider, len(rows), actor)
    return out.getvalue()


@transaction.atomic
def payout_mark_paid(*, payout: Payout, reference: str, actor: str, now: datetime) -> Payout:
    """Ops record that a payout was sent (the PayPal or Wise batch went out): it and its commissions are paid.
    Refused once paid."""
    payout = _payout_locked(payout)
    if payout.status not in (Status.PENDING, Status.EXPORTED, Status.FAILED):
        raise PayoutStateInvalid(f"This payout is {payout.get_status_display().lower()}.")
    _paid_record(payout, reference=reference or payout_reference(payout), now=now)
    logger.info("payout_paid payout=%s reference=%s actor=%s", payout.pk, payout.reference, actor)
    return payout


def payout_transfer_send(*, payout: Payout, actor: str, now: datetime) -> Payout:
    """Send a payout as a Stripe Connect transfer to the affiliate's connected account, and record it paid with the
    transfer's id. The idempotency key is the payout's ("payout-<id>-transfer"), so sending it again (a retry, a
    double click) reaches Stripe's one transfer. Refused without a connected account or once paid; a Stripe
    error leaves it unpaid with the reason and is raised."""
    with transaction.atomic():
        payout = _payout_locked(payout)
        if payout.status == Status.PAID:
            raise PayoutStateInvalid("This payout is already paid.")
        account = payout.affiliate.stripe_connect_account_id
        if not account:
            raise PayoutStateInvalid("The affiliate has no Stripe Connect account.",
                                     details={"affiliate": payout.affiliate.code})
    try:
        transfer = transfer_create(destination=account, amount=Money(payout.amount, payout.currency),
                                   description=f"Tollgate affiliate payout {payout_reference(payout)}",
                                   metadata={"payout_id": str(payout.pk), "affiliate": payout.affiliate.code},
                                   idempotency_key=f"payout-{payout.pk}-transfer")
    except DomainError as error:
        Payout.objects.filter(pk=payout.pk).exclude(status=Status.PAID).update(
            status=Status.FAILED, failure_reason=str(error)[:500])
        logger.warning("payout_transfer_failed payout=%s error=%s actor=%s", payout.pk, error, actor)
        raise
    with transaction.atomic():
        payout = _payout_locked(payout)
        if payout.status != Status.PAID:
            _paid_record(payout, reference=transfer.id, now=now)
    logger.info("payout_transferred payout=%s transfer=%s actor=%s", payout.pk, transfer.id, actor)
    return payout


def payout_reference(payout: Payout) -> str:
    """The reference a payee sees: the payout's id and cycle."""
    return f"TG-AFF-{payout.pk}-{payout.period_end:%Y%m}"


def _paid_record(payout: Payout, *, reference: str, now: datetime) -> None:
    payout.status, payout.paid_at, payout.reference, payout.failure_reason = Status.PAID, now, reference[:255], ""
    payout.save(update_fields=["status", "paid_at", "reference", "failure_reason"])
    payout.commissions.filter(status=Commission.Status.APPROVED).update(status=Commission.Status.PAID)


def _payout_locked(payout: Payout) -> Payout:
    return Payout.objects.select_for_update(of=("self",)).select_related("affiliate").get(pk=payout.pk)


def _payee_email(payout: Payout) -> str:
    return payout.affiliate.payout_email or payout.affiliate.email
