"""The commission engine on paid invoices: base before tax, each type and scheme over several invoices, rounding,
agencies, tenant referral accounts, and exactly once."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from affiliates.commissions.services import commission_earn, commissions_approve_due, commissions_sweep
from affiliates.models import Affiliate, AgencyProfile, Commission
from affiliates.models.program import CommissionType
from billing.invoicing.credit import account_credit_add
from billing.invoicing.services import invoice_finalize
from billing.invoicing.totals import invoice_totals_apply
from billing.models import AccountCreditEntry, Invoice, InvoiceLine
from config.money import Money
from tests.support.clock import NOW
from tests.support.commissions import (
    affiliate_make,
    agency_make,
    invoice_paid,
    program_set,
    referral_make,
)

pytestmark = pytest.mark.django_db

MONTH = timedelta(days=31)


def earned_over_months(referral, amounts: list[str]) -> list[Decimal | None]:
    """One paid invoice per month for the referred tenant; what each earned (None: nothing)."""
    earned = []
    for month, amount in enumerate(amounts):
        invoice = invoice_paid(referral.tenant, amount, at=NOW + month * MONTH)
        commission = commission_earn(invoice=invoice, now=NOW + month * MONTH)
        earned.append(commission.amount if commission else None)
    return earned


def test_recurring_commission_is_the_rate_of_the_amount_before_tax_on_every_invoice():
    referral = referral_make(affiliate_make())
    invoice = invoice_paid(referral.tenant, "100.00", tax_percent="20")
    assert invoice.total == Decimal("120.00")
    commission = commission_earn(invoice=invoice, now=NOW)
    assert (commission.base_amount, commission.rate, commission.amount, commission.currency) == (
        Decimal("100.00"), Decimal("10.000"), Decimal("10.00"), "USD")
    assert earned_over_months(referral, ["50.00", "50.00", "50.00"]) == [Decimal("5.00")] * 3


def test_commission_is_rounded_half_up_to_the_cent():
    referral = referral_make(affiliate_make(commission_rate=Decimal("12.5")))
    commission = commission_earn(invoice=invoice_paid(referral.tenant, "0.20"), now=NOW)
    assert commission.amount == Decimal("0.03")  # 0.025 half up


def test_commission_is_in_the_invoice_currency():
    referral = referral_make(affiliate_make())
    commission = commission_earn(invoice=invoice_paid(referral.tenant, "80.00", currency="EUR"), now=NOW)
    assert (commission.amount, commission.currency) == (Decimal("8.00"), "EUR")


def test_recurring_for_n_months_stops_after_the_nth_month():
    program_set(commission_type=CommissionType.RECURRING_MONTHS, recurring_months=2)
    referral = referral_make(affiliate_make())
    assert earned_over_months(referral, ["100.00"] * 4) == [Decimal("10.00"), Decimal("10.00"), None, None]


def test_one_time_earns_on_the_first_paid_invoice_only():
    program_set(commission_type=CommissionType.ONE_TIME, commission_rate=Decimal("30"))
    referral = referral_make(affiliate_make())
    assert earned_over_months(referral, ["100.00"] * 3) == [Decimal("30.00"), None, None]


def test_scheme_pays_40_percent_for_three_months_then_20_for_ever():
    program_set(commission_type=CommissionType.SCHEME,
                scheme=[{"months": 3, "rate": "40"}, {"months": None, "rate": "20"}])
    referral = referral_make(affiliate_make())
    assert earned_over_months(referral, ["100.00"] * 5) == [Decimal("40.00")] * 3 + [Decimal("20.00")] * 2


def test_scheme_without_an_open_ended_step_earns_nothing_after_its_last_step():
    program_set(commission_type=CommissionType.SCHEME, scheme=[{"months": 1, "rate": "50"}, {"months": 1, "rate": "5"}])
    referral = referral_make(affiliate_make())
    assert earned_over_months(referral, ["100.00"] * 3) == [Decimal("50.00"), Decimal("5.00"), None]


def test_an_affiliates_own_rate_and_type_override_the_programs():
    program_set(commission_type=CommissionType.RECURRING)
    affiliate = affiliate_make(commission_rate=Decimal("25"), commission_type=CommissionType.ONE_TIME)
    assert earned_over_months(referral_make(affiliate), ["100.00"] * 2) == [Decimal("25.00"), None]


def test_two_invoices_in_the_first_month_are_both_month_zero():
    program_set(commission_type=CommissionType.RECURRING_MONTHS, recurring_months=1)
    referral = referral_make(affiliate_make())
    first = commission_earn(invoice=invoice_paid(referral.tenant, "100.00", at=NOW), now=NOW)
    second = commission_earn(invoice=invoice_paid(referral.tenant, "40.00", at=NOW + timedelta(days=3)), now=NOW)
    assert (first.amount, second.amount) == (Decimal("10.00"), Decimal("4.00"))


def test_an_agency_in_referral_mode_earns_its_profile_rate_on_its_clients_invoices():
    agency = agency_make(commission_rate="15")
    commission = commission_earn(invoice=invoice_paid(referral_make(agency).tenant, "100.00"), now=NOW)
    assert commission.amount == Decimal("15.00")


def test_an_agency_in_reseller_mode_earns_no_commission():
    agency = agency_make(earnings_mode=AgencyProfile.EarningsMode.RESELLER)
    assert commission_earn(invoice=invoice_paid(referral_make(agency).tenant, "100.00"), now=NOW) is None


def test_a_tenant_referral_account_earns_no_commission(tenant_alpha):
    account = affiliate_make(kind=Affiliate.Kind.TENANT, tenant=tenant_alpha)
    assert commission_earn(invoice=invoice_paid(referral_make(account).tenant, "100.00"), now=NOW) is None


def test_an_invoice_of_a_tenant_nobody_referred_earns_nothing(tenant_alpha):
    assert commission_earn(invoice=invoice_paid(tenant_alpha, "100.00"), now=NOW) is None


def test_a_paid_invoice_signal_delivered_twice_earns_once():
    referral = referral_make(affiliate_make())
    invoice = invoice_paid(referral.tenant, "100.00")
    assert commission_earn(invoice=invoice, now=NOW) is not None
    assert commission_earn(invoice=invoice, now=NOW) is None
    assert commissions_sweep(now=NOW + timedelta(hours=1)).created == []
    assert Commission.objects.filter(invoice=invoice).count() == 1


def test_billings_invoice_paid_signal_earns_the_commission(django_capture_on_commit_callbacks):
    referral = referral_make(affiliate_make())
    with django_capture_on_commit_callbacks(execute=True):
        invoice = invoice_paid(referral.tenant, "100.00")
    assert Commission.objects.get(invoice=invoice).source_key == f"invoice:{invoice.pk}"


def test_the_sweep_earns_what_a_lost_signal_missed():
    referral = referral_make(affiliate_make())
    invoice = invoice_paid(referral.tenant, "100.00")
    assert [c.invoice_id for c in commissions_sweep(now=NOW + timedelta(hours=1)).created] == [invoice.pk]


def test_a_commission_is_pending_for_the_holding_period_then_approved():
    program_set(holding_days=30)
    referral = referral_make(affiliate_make())
    commission = commission_earn(invoice=invoice_paid(referral.tenant, "100.00"), now=NOW)
    assert (commission.status, commission.payable_at) == (Commission.Status.PENDING, NOW + timedelta(days=30))
    assert commissions_approve_due(now=NOW + timedelta(days=29)) == 0
    with time_machine.travel(NOW + timedelta(days=30), tick=False):
        assert commissions_approve_due(now=NOW + timedelta(days=30)) == 1
    commission.refresh_from_db()
    assert commission.status == Commission.Status.APPROVED


def _referral_reward_credit(tenant, amount: str) -> None:
    """Account credit as a tenant referral reward gives it (affiliates.referral_rewards: kind promotion)."""
    account_credit_add(tenant=tenant, amount=Money(Decimal(amount), "USD"), kind=AccountCreditEntry.Kind.PROMOTION,
                       description="Referral reward", actor="referral-program", now=NOW)


def test_the_part_of_an_invoice_paid_by_account_credit_earns_no_commission():
    referral = referral_make(affiliate_make())
    _referral_reward_credit(referral.tenant, "60.00")
    invoice = invoice_paid(referral.tenant, "100.00")
    assert (invoice.credit_applied, invoice.amount_paid) == (Decimal("60.00"), Decimal("40.00"))
    commission = commission_earn(invoice=invoice, now=NOW)
    assert (commission.base_amount, commission.amount) == (Decimal("40.00"), Decimal("4.00"))


def test_an_invoice_paid_wholly_by_a_referral_rewards_credit_earns_no_commission():
    referral = referral_make(affiliate_make())
    _referral_reward_credit(referral.tenant, "100.00")
    invoice = Invoice.objects.create(tenant=referral.tenant, billing_reason=Invoice.Reason.MANUAL, currency="USD",
                                     created_at=NOW)
    InvoiceLine.objects.create(invoice=invoice, kind=InvoiceLine.Kind.FIXED, description="Pro plan",
                               amount_exact=Decimal("100.00"), amount=Decimal("100.00"))
    invoice_totals_apply(invoice=invoice)
    invoice = invoice_finalize(invoice=invoice, now=NOW)  # nothing due: paid by the credit as it is finalised
    assert (invoice.status, invoice.credit_applied, invoice.amount_paid) == (
        Invoice.Status.PAID, Decimal("100.00"), Decimal("0.00"))
    assert commission_earn(invoice=invoice, now=NOW) is None


def test_the_part_paid_by_account_credit_is_taken_from_the_amount_before_tax_in_proportion():
    referral = referral_make(affiliate_make())
    _referral_reward_credit(referral.tenant, "60.00")
    invoice = invoice_paid(referral.tenant, "100.00", tax_percent="20")  # 120.00, of which 60.00 by credit
    commission = commission_earn(invoice=invoice, now=NOW)
    assert (commission.base_amount, commission.amount) == (Decimal("50.00"), Decimal("5.00"))
