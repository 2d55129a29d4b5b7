"""The commission engine: from billing's events to commissions, exactly once each.

- A paid invoice of a referred tenant earns its affiliate (kind affiliate, or an agency in referral mode) a
  commission: the invoice's amount before tax (total - tax_total, discounts applied), less the share of it paid by
  account credit (commissionable_base), × the rate its terms give for the invoice's month
  (affiliates.commissions.terms), rounded half up to the cent, in the invoice's currency. Keyed "invoice:<id>"
  (unique) and at most one earned per invoice and affiliate (a constraint): a signal delivered twice, or the
  catch-up sweep meeting an invoice the signal already did, writes nothing. Tenant referral accounts (kind tenant)
  earn rewards, not commissions (affiliates.referral_rewards).
- It is pending until payable_at = paid_at + the program's holding days, then approved by a beat job, unless a
  fraud flag or a dispute holds it.
- A credit note reduces it in proportion (credit note amount / invoice total), as a negative adjustment
  "credit_note:<id>"; a dispute holds it; a dispute won releases it; lost, it is reversed (or, already paid out,
  clawed back as the adjustment "dispute:<id>", netted from the next payout).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Min

from affiliates.commissions.holds import (
    DISPUTE_HOLD,
    OPS_HOLD,
    commission_claw_back,
    commissions_hold,
    commissions_release,
    commissions_reverse,
)
from affiliates.commissions.terms import (
    SchemeInvalid,
    calendar_months_between,
    commission_amount,
    rate_for,
    scheme_parse,
)
from affiliates.fraud.services import (
    fraud_manual_approval_flag,
    fraud_manual_approval_reason,
    fraud_referrals_check,
    fraud_refund_rate_check,
)
from affiliates.models import Affiliate, AffiliateProgram, AgencyProfile, Commission, FraudFlag, Referral
from affiliates.models.program import CommissionType
from affiliates.program import CommissionTerms, commission_terms, program_get
from billing.consolidation.selectors import invoice_is_consolidated
from billing.invoicing.selectors import invoices_paid_between
from billing.models import CreditNote, Dispute, Invoice
from config.errors import DomainError
from config.money import Money, money_round

logger = logging.getLogger(__name__)

Status = Commission.Status
Kind = Commission.Kind
SUSPENDED_HOLD = "The affiliate is suspended."


class CommissionStateInvalid(DomainError):
    """The action does not apply to the commission as it is (e.g. approving one already paid)."""

    code = "commission_state_invalid"
    status = 409


@dataclass(frozen=True)
class EarnResult:
    created: list[Commission]
    skipped: int  # not referred, not commissionable, nothing earned this month, or already earned


def invoice_source_key(invoice_id: int) -> str:
    return f"invoice:{invoice_id}"


def commissionable_base(invoice: Invoice) -> Decimal:
    """The invoice's amount before tax, less the share of it paid by account credit: credit is not money paid (a
    referral reward's credit would otherwise earn a commission on money nobody paid), so only what was paid
    earns, tax left out in proportion."""
    before_tax = invoice.total - invoice.tax_total
    if invoice.total <= 0 or invoice.credit_applied <= 0:
        return before_tax
    paid = max(invoice.total - invoice.credit_applied, Decimal(0))
    return money_round(Money(before_tax * paid / invoice.total, invoice.currency)).amount


def commission_earn(*, invoice: Invoice, now: datetime) -> Commission | None:
    """The commission `invoice` (paid) earns, written once: None when it earns none (not referred, nothing before
    tax, nothing in this month of the terms) or already did."""
    result = commissions_earn(invoices=[invoice], now=now)
    return result.created[0] if result.created else None


@transaction.atomic
def commissions_earn(*, invoices: Iterable[Invoice], now: datetime) -> EarnResult:
    """Write the commissions a batch of paid invoices earns (commission_earn's rules for each), in a few statements
    for the whole batch.

    Exactly once: the referrals concerned are locked first (in id order), so two batches over the same invoices
    run one after the other and the second finds the first's commissions; the unique source_key backs that up.
    A referral's first commission runs its fraud rules (affiliates.fraud); a commission covered by an open flag is
    written held, one above the manual approval amount gets its own flag, and one whose referral was confirmed
    fraudulent is written reversed."""
    # A client invoice billed through its reseller (consolidated) was never paid by the client: its payer's
    # wholesale invoice is what gets paid, so it earns nothing, whatever the agency's mode is by now.
    invoices = [invoice for invoice in invoices
                if invoice.status == Invoice.Status.PAID and not invoice_is_consolidated(invoice)]
    referrals = {referral.tenant_id: referral for referral in (
        Referral.objects.select_for_update(of=("self",)).select_related("affiliate", "click", "tenant")
        .filter(tenant_id__in={invoice.tenant_id for invoice in invoices}).order_by("pk"))}
    invoices = [invoice for invoice in invoices if invoice.tenant_id in referrals]
    if not invoices:
        return EarnResult(created=[], skipped=0)
    program = program_get()
    terms = _terms_by_affiliate({referral.affiliate for referral in referrals.values()}, program)
    done = set(Commission.objects.filter(source_key__in=[invoice_source_key(i.pk) for i in invoices])
               .values_list("source_key", flat=True))
    firsts = dict(Commission.objects.filter(referral_id__in=[r.pk for r in referrals.values()], kind=Kind.EARNED)
                  .values("referral_id").annotate(first=Min("invoice__issued_at")).values_list("referral_id", "first"))
    had_commission = set(firsts)
    pending: list[Commission] = []
    skipped = 0
    for invoice in sorted(invoices, key=lambda i: (_invoice_month_at(i), i.pk)):
        referral = referrals[invoice.tenant_id]
        affiliate_terms = terms.get(referral.affiliate_id)
        base = commissionable_base(invoice)
        if affiliate_terms is None or base <= 0 or invoice_source_key(invoice.pk) in done:
            skipped += 1
            continue
        at = _invoice_month_at(invoice)
        first_at = firsts.get(referral.pk)
        rate = rate_for(affiliate_terms, month=calendar_months_between(min(first_at or at, at), at),
                        first=first_at is None)
        if not rate:
            skipped += 1
            continue
        firsts[referral.pk] = min(first_at or at, at)
        pending.append(Commission(
            affiliate=referral.affiliate, referral=referral, invoice=invoice, kind=Kind.EARNED,
            source_key=invoice_source_key(invoice.pk), base_amount=base, rate=rate,
            amount=commission_amount(base=base, rate=rate, currency=invoice.currency), currency=invoice.currency,
            status=Status.PENDING, payable_at=(invoice.paid_at or now) + timedelta(days=program.holding_days),
            created_at=now))
    fraud_referrals_check(referrals=list({c.referral_id: c.referral for c in pending
                                          if c.referral_id not in had_commission}.values()), now=now)
    _statuses_set(pending, program=program, now=now)
    Commission.objects.bulk_create(pending)
    _manual_approvals_flag(pending, program=program, now=now)
    if len(pending) == 1:
        commission = pending[0]
        logger.info("commission_earned commission=%s affiliate=%s invoice=%s amount=%s currency=%s status=%s",
                    commission.pk, commission.affiliate_id, commission.invoice_id, commission.amount,
                    commission.currency, commission.status)
    elif pending:
        logger.info("commissions_earned count=%s skipped=%s", len(pending), skipped)
    return EarnResult(created=pending, skipped=skipped)


def commissions_sweep(*, now: datetime, days: int = 7) -> EarnResult:
    """Earn what the paid invoices of referred tenants of the last `days` days have not earned yet: the catch-up
    for an invoice_paid signal lost with its process (the signal is sent after commit, outside any retry). Run by
    a beat job; writes nothing for an invoice that already earned."""
    referred = Referral.objects.exclude(affiliate__kind=Affiliate.Kind.TENANT).values("tenant_id")
    earned = Commission.objects.filter(kind=Kind.EARNED, invoice_id__isnull=False).values("invoice_id")
    invoices = (invoices_paid_between(tenant_ids=referred, start=now - timedelta(days=days), end=now)
                .exclude(pk__in=earned))
    created, skipped = [], 0
    batch: list[Invoice] = []
    for invoice in invoices.iterator(chunk_size=2000):
        batch.append(invoice)
        if len(batch) == 2000:
            result = commissions_earn(invoices=batch, now=now)
            created, skipped, batch = created + result.created, skipped + result.skipped, []
    if batch:
        result = commissions_earn(invoices=batch, now=now)
        created, skipped = created + result.created, skipped + result.skipped
    return EarnResult(created=created, skipped=skipped)


@transaction.atomic
def commission_credit_note_adjust(*, credit_note: CreditNote, now: datetime) -> Commission | None:
    """Reduce the commission earned on the credit note's invoice by the credited share of the invoice's total
    (a negative adjustment "credit_note:<id>", once); then check the affiliate's refund rate. None when the
    invoice earned nothing."""
    earned = _earned_locked(credit_note.invoice_id)
    if earned is None:
        return None
    invoice = earned.invoice
    # Fully credited, the rest of the commission goes whatever the rounding of earlier shares left. The share is
    # of what was paid, which is all the commission was earned on (commissionable_base): a credit note refunds
    # that first, account credit having earned nothing.
    paid = invoice.total - invoice.credit_applied
    fully = paid <= 0 or invoice.amount_credited >= invoice.total or credit_note.amount >= paid
    share = None if fully else credit_note.amount / paid
    adjustment = commission_claw_back(earned=earned, share=share, source_key=f"credit_note:{credit_note.pk}", now=now)
    fraud_refund_rate_check(affiliate=earned.affiliate, program=program_get(), now=now)
    return adjustment


@transaction.atomic
def commission_dispute_hold(*, invoice: Invoice, dispute: Dispute, now: datetime) -> Commission | None:
    """Hold the commission earned on a disputed invoice (and its adjustments) until the dispute closes; then check
    the affiliate's refund rate. One already paid out has nothing to hold: a lost dispute claws it back."""
    earned = _earned_locked(invoice.pk)
    if earned is None:
        return None
    commissions_hold(commissions=Commission.objects.filter(invoice_id=invoice.pk, affiliate_id=earned.affiliate_id),
                     reason=f"{DISPUTE_HOLD}{dispute.dispute_id} is open.")
    fraud_refund_rate_check(affiliate=earned.affiliate, program=program_get(), now=now)
    return earned


@transaction.atomic
def commission_dispute_close(*, invoice: Invoice, dispute: Dispute, won: bool, now: datetime) -> Commission | None:
    """A dispute ended. Won: the commission is released (unless a fraud flag still holds it). Lost: reversed with
    its adjustments when not yet paid out, else clawed back ("dispute:<id>", netted from the next payout). Returns
    the earned commission, or the claw-back."""
    earned = _earned_locked(invoice.pk)
    if earned is None:
        return None
    of_invoice = Commission.objects.filter(invoice_id=invoice.pk, affiliate_id=earned.affiliate_id)
    if won:
        commissions_release(commissions=of_invoice, now=now, dispute_closed=True)
        return earned
    if earned.payout_id is None:
        commissions_reverse(commissions=of_invoice, now=now)
        return earned
    return commission_claw_back(earned=earned, share=None, source_key=f"dispute:{dispute.pk}", now=now)


def commissions_approve_due(*, now: datetime) -> int:
    """Approve the pending commissions whose holding period has ended (held ones wait for their review): one
    statement. Returns how many."""
    approved = Commission.objects.filter(status=Status.PENDING, payable_at__lte=now).update(
        status=Status.APPROVED, approved_at=now)
    if approved:
        logger.info("commissions_approved count=%s", approved)
    return approved


@transaction.atomic
def commission_approve(*, commission: Commission, actor: str, now: datetime) -> Commission:
    """Ops approve a pending or held commission now (the holding period and its holds waived; the open flags that
    held it stay open until reviewed, and hold nothing more of it). Refused once in a payout or reversed."""
    commission = _locked_unpaid(commission, (Status.PENDING, Status.HELD), action="approved")
    commission.status, commission.approved_at, commission.held_reason = Status.APPROVED, now, ""
    commission.save(update_fields=["status", "approved_at", "held_reason"])
    logger.info("commission_approved commission=%s actor=%s", commission.pk, actor)
    return commission


@transaction.atomic
def commission_hold(*, commission: Commission, reason: str, actor: str) -> Commission:
    """Ops hold a pending or approved commission for review: it stays held (whatever flags or disputes are
    cleared meanwhile) until ops approve it. Refused once in a payout or reversed."""
    commission = _locked_unpaid(commission, (Status.PENDING, Status.APPROVED), action="held")
    commission.status, commission.approved_at = Status.HELD, None
    commission.held_reason = f"{OPS_HOLD}{reason or actor}"[:300]
    commission.save(update_fields=["status", "approved_at", "held_reason"])
    logger.info("commission_held commission=%s actor=%s", commission.pk, actor)
    return commission


@transaction.atomic
def commission_reverse(*, commission: Commission, actor: str, now: datetime) -> Commission:
    """Ops reverse a commission: never paid if not paid out yet (its invoice's adjustments with it), else clawed
    back from the next payout. Returns the commission, or its claw-back."""
    commission = Commission.objects.select_for_update().get(pk=commission.pk)
    if commission.status == Status.REVERSED:
        raise CommissionStateInvalid("This commission is already reversed.", details={"status": commission.status})
    logger.info("commission_reversed commission=%s actor=%s", commission.pk, actor)
    if commission.payout_id is None:
        if commission.kind == Kind.EARNED:
            commissions_reverse(commissions=Commission.objects.filter(invoice_id=commission.invoice_id,
                                                                      affiliate_id=commission.affiliate_id), now=now)
        else:
            commissions_reverse(commissions=Commission.objects.filter(pk=commission.pk), now=now)
        commission.refresh_from_db()
        return commission
    if commission.kind != Kind.EARNED:
        raise CommissionStateInvalid("A paid-out adjustment cannot be reversed.")
    return commission_claw_back(earned=commission, share=None, source_key=f"reversal:{commission.pk}", now=now)


def _terms_by_affiliate(affiliates: set[Affiliate], program: AffiliateProgram) -> dict[int, CommissionTerms]:
    """What each affiliate earns on: its terms (the program's unless overridden); an agency's rate is its
    profile's, and an agency earns only in referral mode; tenant referral accounts earn no commissions."""
    agencies = {profile.agency_id: profile for profile in AgencyProfile.objects.filter(
        agency_id__in=[a.tenant_id for a in affiliates if a.kind == Affiliate.Kind.AGENCY])}
    terms = {}
    for affiliate in affiliates:
        if affiliate.kind == Affiliate.Kind.AFFILIATE:
            terms[affiliate.pk] = commission_terms(affiliate, program=program)
        elif affiliate.kind == Affiliate.Kind.AGENCY:
            profile = agencies.get(affiliate.tenant_id)
            if profile is not None and profile.earnings_mode == AgencyProfile.EarningsMode.REFERRAL:
                own = commission_terms(affiliate, program=program) if affiliate.commission_type else None
                terms[affiliate.pk] = CommissionTerms(
                    rate=profile.commission_rate, type=own.type if own else CommissionType.RECURRING,
                    recurring_months=own.recurring_months if own else None, scheme=own.scheme if own else [])
    # A malformed scheme (edited by hand) stops only its affiliate's commissions, not the batch: the sweep earns
    # them once it is fixed.
    for affiliate_id, affiliate_terms in list(terms.items()):
        if affiliate_terms.type == CommissionType.SCHEME:
            try:
                scheme_parse(affiliate_terms.scheme)
            except SchemeInvalid as error:
                logger.error("commission_scheme_invalid affiliate=%s error=%s", affiliate_id, error)
                del terms[affiliate_id]
    return terms


def _statuses_set(commissions: list[Commission], *, program: AffiliateProgram, now: datetime) -> None:
    """Each new commission's status before it is written: reversed when its referral was confirmed fraudulent,
    held (with the reason) when an open flag covers it or its affiliate is suspended, else pending."""
    if not commissions:
        return
    flags = list(FraudFlag.objects.filter(affiliate_id__in={c.affiliate_id for c in commissions})
                 .exclude(status=FraudFlag.Status.CLEARED).filter(commission__isnull=True)
                 .values("affiliate_id", "referral_id", "status", "reason").order_by("created_at", "pk"))
    for commission in commissions:
        mine = [f for f in flags if f["affiliate_id"] == commission.affiliate_id
                and f["referral_id"] in (None, commission.referral_id)]
        if any(f["status"] == FraudFlag.Status.CONFIRMED and f["referral_id"] is not None for f in mine):
            commission.status, commission.reversed_at = Status.REVERSED, now
            continue
        holding = [f for f in mine if f["status"] == FraudFlag.Status.OPEN]
        if holding:
            commission.status, commission.held_reason = Status.HELD, holding[0]["reason"][:300]
        elif commission.affiliate.status == Affiliate.Status.SUSPENDED:
            commission.status, commission.held_reason = Status.HELD, SUSPENDED_HOLD
        else:
            reason = fraud_manual_approval_reason(commission=commission, program=program)
            if reason:
                commission.status, commission.held_reason = Status.HELD, reason[:300]


def _manual_approvals_flag(commissions: list[Commission], *, program: AffiliateProgram, now: datetime) -> None:
    for commission in commissions:
        if commission.status == Status.REVERSED:
            continue
        reason = fraud_manual_approval_reason(commission=commission, program=program)
        if reason:
            fraud_manual_approval_flag(commission=commission, reason=reason, now=now)


def _earned_locked(invoice_id: int) -> Commission | None:
    return (Commission.objects.select_for_update(of=("self",)).select_related("invoice", "affiliate")
            .filter(invoice_id=invoice_id, kind=Kind.EARNED).first())


def _locked_unpaid(commission: Commission, allowed: tuple[str, ...], *, action: str) -> Commission:
    commission = Commission.objects.select_for_update().get(pk=commission.pk)
    if commission.payout_id is not None or commission.status not in allowed:
        raise CommissionStateInvalid(f"This commission is {commission.get_status_display().lower()}"
                                     f"{' and in a payout' if commission.payout_id else ''}: it cannot be {action}.",
                                     details={"status": commission.status})
    return commission


def _invoice_month_at(invoice: Invoice) -> datetime:
    """The instant an invoice counts from in the customer's months: its issue date (its payment's if missing)."""
    return invoice.issued_at or invoice.paid_at
