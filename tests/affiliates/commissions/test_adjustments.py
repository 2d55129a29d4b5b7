"""Refunds, credit notes and disputes against commissions, before and after they are paid out."""

from datetime import timedelta
from decimal import Decimal

import pytest

from affiliates.commissions.services import (
    commission_credit_note_adjust,
    commission_dispute_close,
    commission_dispute_hold,
    commission_earn,
    commissions_approve_due,
)
from affiliates.models import Commission
from affiliates.payouts.services import payout_mark_paid, payouts_create
from billing.invoicing.credit import account_credit_add
from billing.invoicing.services import credit_note_issue
from billing.models import AccountCreditEntry, CreditNote, Dispute
from config.money import Money
from tests.support.clock import NOW
from tests.support.commissions import affiliate_make, invoice_paid, program_set, referral_make

pytestmark = pytest.mark.django_db

Status = Commission.Status
LATER = NOW + timedelta(days=40)


@pytest.fixture
def earned():
    """A 10.00 commission on a paid invoice of 100.00 + 20 % tax (total 120.00)."""
    program_set(payout_threshold=Decimal("1"), min_paying_customers=0)
    referral = referral_make(affiliate_make())
    return commission_earn(invoice=invoice_paid(referral.tenant, "100.00", tax_percent="20"), now=NOW)


def credit(invoice, amount: str) -> CreditNote:
    return credit_note_issue(invoice=invoice, amount=Money(Decimal(amount), "USD"), reason="product_unsatisfactory",
                             memo="", actor="ops@tollgate.test", now=NOW + timedelta(days=1))


def dispute_of(invoice, *, dispute_id: str = "dp_test1") -> Dispute:
    return Dispute.objects.create(dispute_id=dispute_id, charge_id="ch_test1", tenant=invoice.tenant, invoice=invoice,
                                  amount=invoice.total, currency="USD", status=Dispute.Status.NEEDS_RESPONSE,
                                  opened_at=NOW, updated_at=NOW)


def paid_out(commission: Commission) -> None:
    commissions_approve_due(now=LATER)
    payouts_create(period_end=(LATER + timedelta(days=1)).date(), now=LATER)
    commission.refresh_from_db()
    payout_mark_paid(payout=commission.payout, reference="batch-1", actor="ops", now=LATER)
    commission.refresh_from_db()


def net(commission: Commission) -> Decimal:
    rows = Commission.objects.filter(invoice_id=commission.invoice_id).exclude(status=Status.REVERSED)
    return sum((row.amount for row in rows), Decimal(0))


def test_a_credit_note_reduces_the_commission_in_proportion_before_payout(earned):
    adjustment = commission_credit_note_adjust(credit_note=credit(earned.invoice, "60.00"), now=NOW)
    assert (adjustment.kind, adjustment.amount, adjustment.status) == (Commission.Kind.ADJUSTMENT, Decimal("-5.00"),
                                                                       Status.PENDING)
    assert adjustment.payable_at == earned.payable_at  # netted in the same payout as what it adjusts
    assert net(earned) == Decimal("5.00")


def test_credit_notes_crediting_the_whole_invoice_take_the_whole_commission_despite_rounding(earned):
    for _ in range(3):
        commission_credit_note_adjust(credit_note=credit(earned.invoice, "40.00"), now=NOW)
    assert net(earned) == Decimal("0.00")


def test_a_credit_note_signal_delivered_twice_adjusts_once(earned):
    note = credit(earned.invoice, "60.00")
    first = commission_credit_note_adjust(credit_note=note, now=NOW)
    assert commission_credit_note_adjust(credit_note=note, now=NOW).pk == first.pk
    assert net(earned) == Decimal("5.00")


def test_billings_credit_note_signal_adjusts_the_commission(earned, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        note = credit(earned.invoice, "120.00")
    assert Commission.objects.get(source_key=f"credit_note:{note.pk}").amount == Decimal("-10.00")


def test_a_credit_note_after_payout_is_clawed_back_from_the_next_payout(earned):
    paid_out(earned)
    assert earned.status == Status.PAID
    adjustment = commission_credit_note_adjust(credit_note=credit(earned.invoice, "120.00"), now=LATER)
    assert (adjustment.amount, adjustment.status, adjustment.payout) == (Decimal("-10.00"), Status.APPROVED, None)
    earned.refresh_from_db()
    assert earned.status == Status.PAID  # what was paid stays paid: the claw-back nets it


def test_a_dispute_holds_the_commission_and_winning_it_releases_it(earned):
    dispute = dispute_of(earned.invoice)
    commission_dispute_hold(invoice=earned.invoice, dispute=dispute, now=NOW)
    earned.refresh_from_db()
    assert (earned.status, earned.held_reason) == (Status.HELD, "Dispute dp_test1 is open.")
    commission_dispute_close(invoice=earned.invoice, dispute=dispute, won=True, now=NOW + timedelta(days=5))
    earned.refresh_from_db()
    assert (earned.status, earned.held_reason) == (Status.PENDING, "")


def test_a_won_dispute_past_the_holding_period_approves_the_commission(earned):
    dispute = dispute_of(earned.invoice)
    commission_dispute_hold(invoice=earned.invoice, dispute=dispute, now=NOW)
    commission_dispute_close(invoice=earned.invoice, dispute=dispute, won=True, now=LATER)
    earned.refresh_from_db()
    assert earned.status == Status.APPROVED


def test_a_dispute_lost_before_payout_reverses_the_commission_and_its_adjustments(earned):
    commission_credit_note_adjust(credit_note=credit(earned.invoice, "60.00"), now=NOW)
    dispute = dispute_of(earned.invoice)
    commission_dispute_hold(invoice=earned.invoice, dispute=dispute, now=NOW)
    commission_dispute_close(invoice=earned.invoice, dispute=dispute, won=False, now=NOW)
    assert set(Commission.objects.filter(invoice=earned.invoice).values_list("status", flat=True)) == {
        Status.REVERSED}


def test_a_dispute_lost_after_payout_is_clawed_back_once(earned):
    paid_out(earned)
    dispute = dispute_of(earned.invoice)
    commission_dispute_hold(invoice=earned.invoice, dispute=dispute, now=LATER)
    claw_back = commission_dispute_close(invoice=earned.invoice, dispute=dispute, won=False, now=LATER)
    again = commission_dispute_close(invoice=earned.invoice, dispute=dispute, won=False, now=LATER)
    assert (claw_back.amount, claw_back.status, claw_back.source_key) == (Decimal("-10.00"), Status.APPROVED,
                                                                         f"dispute:{dispute.pk}")
    assert again.pk == claw_back.pk


def test_a_credit_note_on_an_invoice_that_earned_nothing_changes_nothing(tenant_alpha):
    invoice = invoice_paid(tenant_alpha, "50.00")
    assert commission_credit_note_adjust(credit_note=credit(invoice, "10.00"), now=NOW) is None


def test_a_credit_note_on_an_invoice_partly_paid_by_account_credit_takes_back_its_share_of_what_was_paid():
    referral = referral_make(affiliate_make())
    account_credit_add(tenant=referral.tenant, amount=Money(Decimal("60.00"), "USD"),
                       kind=AccountCreditEntry.Kind.PROMOTION, description="Referral reward", actor="referral-program",
                       now=NOW)
    invoice = invoice_paid(referral.tenant, "100.00")  # 60.00 by credit, 40.00 paid: 4.00 earned on the 40.00
    earned = commission_earn(invoice=invoice, now=NOW)
    adjustment = commission_credit_note_adjust(credit_note=credit(invoice, "40.00"), now=NOW + timedelta(days=1))
    assert (earned.amount, adjustment.amount) == (Decimal("4.00"), Decimal("-4.00"))
