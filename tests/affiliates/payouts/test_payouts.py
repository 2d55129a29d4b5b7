"""Payout batches: per affiliate and currency above the threshold, each commission once, never negative; CSV
exports for PayPal and Wise, marking paid, and Stripe Connect transfers."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError

from affiliates.commissions.services import (
    commission_credit_note_adjust,
    commission_earn,
    commissions_approve_due,
)
from affiliates.models import Commission, Payout
from affiliates.payouts.services import (
    PayoutExportInvalid,
    payout_mark_paid,
    payout_period_end,
    payout_transfer_send,
    payouts_create,
    payouts_export_csv,
)
from billing.invoicing.services import credit_note_issue
from config.money import Money
from tests.support.clock import NOW
from tests.support.commissions import affiliate_make, invoice_paid, program_set, referral_make

pytestmark = pytest.mark.django_db

APPROVED_AT = NOW + timedelta(days=31)
PERIOD_END = (APPROVED_AT + timedelta(days=1)).date()


@pytest.fixture(autouse=True)
def program():
    return program_set(payout_threshold=Decimal("50"), min_paying_customers=0, holding_days=30)


def earn(affiliate, *amounts: str, currency: str = "USD", at=NOW) -> list[Commission]:
    """One referred tenant per amount, each paying one invoice of that amount at `at` (10 %)."""
    return [commission_earn(invoice=invoice_paid(referral_make(affiliate).tenant, amount, currency=currency, at=at),
                            now=at) for amount in amounts]


def batch(period_end=PERIOD_END, now=APPROVED_AT):
    commissions_approve_due(now=now)
    return payouts_create(period_end=period_end, now=now)


def test_approved_commissions_above_the_threshold_become_one_payout_per_affiliate_and_currency():
    alice, bob = affiliate_make(), affiliate_make()
    alice_usd = earn(alice, "300.00", "400.00")
    earn(alice, "600.00", currency="EUR")
    earn(bob, "100.00")  # 10.00: under the threshold
    run = batch()
    assert sorted((p.affiliate_id, p.currency, p.amount) for p in run.created) == [
        (alice.pk, "EUR", Decimal("60.00")), (alice.pk, "USD", Decimal("70.00"))]
    assert run.below_threshold == 1
    usd = Payout.objects.get(affiliate=alice, currency="USD")
    assert set(usd.commissions.values_list("pk", flat=True)) == {c.pk for c in alice_usd}


def test_commissions_still_in_their_holding_period_wait_for_a_later_cycle():
    affiliate = affiliate_make()
    earn(affiliate, "600.00", at=NOW + timedelta(days=10))
    assert batch().created == []


def test_running_the_batch_again_for_the_same_cycle_creates_nothing():
    affiliate = affiliate_make()
    earn(affiliate, "600.00")
    assert len(batch().created) == 1
    assert batch().created == []
    assert Payout.objects.filter(affiliate=affiliate).count() == 1


def test_a_second_payout_for_one_affiliate_cycle_and_currency_is_refused_by_the_database():
    affiliate = affiliate_make()
    earn(affiliate, "600.00")
    payout = batch().created[0]
    with pytest.raises(IntegrityError):
        Payout.objects.create(affiliate=affiliate, amount=Decimal("1"), currency="USD", method=payout.method,
                              period_end=payout.period_end, created_at=NOW)


def test_a_commission_already_in_a_payout_is_not_taken_by_the_next_cycle():
    affiliate = affiliate_make()
    first = earn(affiliate, "600.00")[0]
    batch()
    later = APPROVED_AT + timedelta(days=31)
    second = earn(affiliate, "700.00", at=APPROVED_AT)[0]
    run = batch(period_end=(later + timedelta(days=1)).date(), now=later)
    assert [p.amount for p in run.created] == [Decimal("70.00")]
    first.refresh_from_db(), second.refresh_from_db()
    assert first.payout_id != second.payout_id


def test_a_claw_back_larger_than_new_commissions_waits_and_no_negative_payout_is_made():
    affiliate = affiliate_make()
    paid = earn(affiliate, "1000.00")[0]
    payout = batch().created[0]
    payout_mark_paid(payout=payout, reference="pp-1", actor="ops", now=APPROVED_AT)
    note = credit_note_issue(invoice=paid.invoice, amount=Money(Decimal("1000.00"), "USD"), reason="other", memo="",
                             actor="ops", now=APPROVED_AT)
    commission_credit_note_adjust(credit_note=note, now=APPROVED_AT)  # -100.00, netted next time
    later = APPROVED_AT + timedelta(days=31)
    earn(affiliate, "600.00", at=APPROVED_AT)  # +60.00: still -40.00 overall
    assert batch(period_end=(later + timedelta(days=1)).date(), now=later).created == []
    even_later = later + timedelta(days=31)
    earn(affiliate, "900.00", at=later)  # +90.00: 50.00 overall
    run = batch(period_end=(even_later + timedelta(days=1)).date(), now=even_later)
    assert [p.amount for p in run.created] == [Decimal("50.00")]
    assert run.created[0].commissions.filter(amount__lt=0).count() == 1


def test_marking_a_payout_paid_marks_its_commissions_paid():
    affiliate = affiliate_make()
    commissions = earn(affiliate, "300.00", "300.00")
    payout = payout_mark_paid(payout=batch().created[0], reference="PAYPAL-123", actor="ops", now=APPROVED_AT)
    assert (payout.status, payout.reference) == (Payout.Status.PAID, "PAYPAL-123")
    assert {Commission.objects.get(pk=c.pk).status for c in commissions} == {Commission.Status.PAID}


def test_paypal_export_is_one_headerless_row_per_payout_and_marks_them_exported():
    affiliate = affiliate_make(payout_email="payee@paypal.test")
    earn(affiliate, "600.00")
    payout = batch().created[0]
    text = payouts_export_csv(payouts=Payout.objects.filter(pk=payout.pk), provider="paypal", actor="ops",
                              now=APPROVED_AT)
    period = f"{payout.period_end:%Y%m}"
    assert text == (f"payee@paypal.test,60.00,USD,TG-AFF-{payout.pk}-{period},"
                    f"Tollgate affiliate commissions to {payout.period_end},PAYPAL\n")
    payout.refresh_from_db()
    assert payout.status == Payout.Status.EXPORTED


def test_paypal_export_refuses_two_currencies_in_one_file():
    affiliate = affiliate_make()
    earn(affiliate, "600.00")
    earn(affiliate, "600.00", currency="EUR")
    batch()
    with pytest.raises(PayoutExportInvalid):
        payouts_export_csv(payouts=Payout.objects.all(), provider="paypal", actor="ops", now=APPROVED_AT)


def test_wise_export_follows_the_batch_template_header():
    affiliate = affiliate_make(name="Ada Promoter", email="ada@promoter.test")
    earn(affiliate, "600.00", currency="EUR")
    payout = batch().created[0]
    lines = payouts_export_csv(payouts=Payout.objects.filter(pk=payout.pk), provider="wise", actor="ops",
                               now=APPROVED_AT).splitlines()
    assert lines[0] == "name,recipientEmail,paymentReference,receiverType,amountCurrency,amount,sourceCurrency," \
                       "targetCurrency"
    assert lines[1] == f"Ada Promoter,ada@promoter.test,TG-AFF-{payout.pk}-{payout.period_end:%Y%m},PRIVATE,target," \
                       "60.00,USD,EUR"


def test_stripe_connect_transfer_pays_the_payout_once_with_an_idempotency_key(stripe):
    affiliate = affiliate_make(stripe_connect_account_id="acct_1Partner0001")
    earn(affiliate, "600.00")
    payout = batch().created[0]
    sent = payout_transfer_send(payout=payout, actor="ops", now=APPROVED_AT)
    transfers = stripe.creates("/v1/transfers")
    assert len(transfers) == 1
    assert transfers[0].idempotency_key == f"payout-{payout.pk}-transfer"
    assert (transfers[0].params["destination"], transfers[0].params["amount"]) == ("acct_1Partner0001", 6000)
    assert (sent.status, sent.reference) == (Payout.Status.PAID, stripe.of_type("transfer")[0]["id"])


def test_monthly_job_pays_the_previous_month():
    assert str(payout_period_end(now=NOW)) == "2026-10-31"


def test_a_claw_back_written_while_the_batch_runs_is_left_out_of_a_payout_that_did_not_net_it(monkeypatch):
    """A credit note lands between the batch's sum and its taking of the commissions: the payout takes exactly the
    commissions it summed, so it never pays out a commission whose claw-back it carries but did not subtract."""
    affiliate = affiliate_make()
    (earned,) = earn(affiliate, "600.00")  # 60.00
    create = Payout.objects.create

    def create_while_a_credit_note_lands(**fields):
        payout = create(**fields)
        note = credit_note_issue(invoice=earned.invoice, amount=Money(Decimal("300.00"), "USD"),
                                 reason="product_unsatisfactory", memo="", actor="ops@tollgate.test", now=APPROVED_AT)
        commission_credit_note_adjust(credit_note=note, now=APPROVED_AT)  # -30.00
        return payout

    monkeypatch.setattr(Payout.objects, "create", create_while_a_credit_note_lands)
    (payout,) = batch().created
    assert payout.amount == sum(payout.commissions.values_list("amount", flat=True)) == Decimal("60.00")
    assert Commission.objects.get(affiliate=affiliate, kind=Commission.Kind.ADJUSTMENT).payout_id is None
