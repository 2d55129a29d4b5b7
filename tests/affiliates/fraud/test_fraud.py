"""Fraud rules: each writes a flag with its reason and holds what it covers; clearing releases, confirming
reverses (or claws back what was paid out). Self-referral is the affiliate's own email, IP address or device,
never a visitor's click and signup from one browser; the agency exception to it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings

from affiliates.commissions.services import (
    commission_credit_note_adjust,
    commission_earn,
    commission_hold,
    commissions_approve_due,
)
from affiliates.fraud.services import (
    FINGERPRINTS_KEPT_PER_KIND,
    FraudFlagReviewed,
    affiliate_fingerprint_record,
    fraud_flag_clear,
    fraud_flag_confirm,
    fraud_referral_check,
)
from affiliates.models import AffiliateApplication, AffiliateFingerprint, Commission, FraudFlag, Payout, Referral
from affiliates.payouts.services import payout_mark_paid, payouts_create
from billing.invoicing.services import credit_note_issue
from config.money import Money
from tests.support.clock import NOW
from tests.support.commissions import (
    affiliate_make,
    agency_make,
    click_make,
    invoice_paid,
    program_set,
    referral_make,
    tenant_bare,
)

pytestmark = pytest.mark.django_db

Rule = FraudFlag.Rule
Kind = AffiliateFingerprint.Kind
LATER = NOW + timedelta(days=40)


@pytest.fixture(autouse=True)
def program():
    return program_set(payout_threshold=Decimal("1"), min_paying_customers=0)


def earn(referral, amount: str = "100.00", at=NOW) -> Commission:
    return commission_earn(invoice=invoice_paid(referral.tenant, amount, at=at), now=at)


def rules_of(affiliate) -> set[str]:
    return set(FraudFlag.objects.filter(affiliate=affiliate).values_list("rule", flat=True))


def test_self_referral_by_the_affiliates_own_email_holds_the_commission():
    affiliate = affiliate_make(email="me@promoter.test")
    commission = earn(referral_make(affiliate, owner_email="ME@promoter.test"))
    assert (commission.status, rules_of(affiliate)) == (Commission.Status.HELD, {Rule.SELF_REFERRAL})
    assert "email is the affiliate's" in commission.held_reason


def test_self_referral_by_the_affiliates_email_domain_is_flagged():
    affiliate = affiliate_make(email="ann@acme-media.test")
    earn(referral_make(affiliate, owner_email="bob@acme-media.test"))
    assert rules_of(affiliate) == {Rule.SELF_REFERRAL}


def test_two_people_at_a_public_mailbox_provider_are_not_self_referral():
    affiliate = affiliate_make(email="ann@gmail.com")
    commission = earn(referral_make(affiliate, owner_email="bob@gmail.com"))
    assert (commission.status, rules_of(affiliate)) == (Commission.Status.PENDING, set())


def test_an_ordinary_visitor_clicking_and_signing_up_from_one_ip_and_device_is_not_self_referral():
    affiliate = affiliate_make()
    affiliate_fingerprint_record(affiliate=affiliate, kind=Kind.IP, fingerprint="affiliate-home", now=NOW)
    click = click_make(affiliate, ip_hash="visitor-ip", device_hash="visitor-device")
    commission = earn(referral_make(affiliate, click=click, signup_ip_hash="visitor-ip",
                                    signup_device_hash="visitor-device"))
    assert (commission.status, rules_of(affiliate)) == (Commission.Status.PENDING, set())


def test_a_signup_from_a_device_the_affiliate_used_is_self_referral():
    affiliate = affiliate_make()
    affiliate_fingerprint_record(affiliate=affiliate, kind=Kind.DEVICE, fingerprint="affiliate-laptop", now=NOW)
    commission = earn(referral_make(affiliate, signup_ip_hash="cafe-wifi", signup_device_hash="affiliate-laptop"))
    assert (commission.status, rules_of(affiliate)) == (Commission.Status.HELD, {Rule.SELF_REFERRAL})
    assert "signup came from a device the affiliate used" in commission.held_reason


def test_a_signup_from_an_ip_address_the_affiliate_used_is_self_referral():
    affiliate = affiliate_make()
    affiliate_fingerprint_record(affiliate=affiliate, kind=Kind.IP, fingerprint="affiliate-home", now=NOW)
    commission = earn(referral_make(affiliate, signup_ip_hash="affiliate-home", signup_device_hash="new-browser"))
    assert "signup came from an IP address the affiliate used" in commission.held_reason


def test_a_click_from_a_device_the_affiliate_used_is_self_referral():
    affiliate = affiliate_make()
    affiliate_fingerprint_record(affiliate=affiliate, kind=Kind.DEVICE, fingerprint="affiliate-phone", now=NOW)
    click = click_make(affiliate, ip_hash="mobile-network", device_hash="affiliate-phone")
    earn(referral_make(affiliate, click=click, signup_ip_hash="office", signup_device_hash="office-desktop"))
    assert rules_of(affiliate) == {Rule.SELF_REFERRAL}


def test_a_signup_from_the_ip_address_the_affiliate_applied_from_is_self_referral():
    application = AffiliateApplication.objects.create(name="Ann", email="ann@promoter.test", promotion="Blog",
                                                      ip_hash="application-ip", created_at=NOW)
    affiliate = affiliate_make(application=application)
    earn(referral_make(affiliate, signup_ip_hash="application-ip"))
    assert rules_of(affiliate) == {Rule.SELF_REFERRAL}


def test_another_affiliates_ip_address_is_not_this_affiliates_self_referral():
    affiliate, other = affiliate_make(), affiliate_make()
    affiliate_fingerprint_record(affiliate=other, kind=Kind.IP, fingerprint="other-home", now=NOW)
    earn(referral_make(affiliate, signup_ip_hash="other-home"))
    assert rules_of(affiliate) == set()


def test_only_the_most_recent_fingerprints_of_each_kind_are_kept():
    affiliate = affiliate_make()
    for n in range(FINGERPRINTS_KEPT_PER_KIND + 2):
        affiliate_fingerprint_record(affiliate=affiliate, kind=Kind.IP, fingerprint=f"ip-{n}",
                                     now=NOW + timedelta(minutes=n))
    affiliate_fingerprint_record(affiliate=affiliate, kind=Kind.DEVICE, fingerprint="dev-0", now=NOW)
    kept = set(AffiliateFingerprint.objects.filter(affiliate=affiliate, kind=Kind.IP).values_list("hash", flat=True))
    assert kept == {f"ip-{n}" for n in range(2, FINGERPRINTS_KEPT_PER_KIND + 2)}
    assert AffiliateFingerprint.objects.filter(affiliate=affiliate, kind=Kind.DEVICE).count() == 1


def test_a_fingerprint_seen_again_is_one_row_with_its_latest_sighting():
    affiliate = affiliate_make()
    affiliate_fingerprint_record(affiliate=affiliate, kind=Kind.IP, fingerprint="home", now=NOW)
    affiliate_fingerprint_record(affiliate=affiliate, kind=Kind.IP, fingerprint="home", now=LATER)
    fingerprint = AffiliateFingerprint.objects.get(affiliate=affiliate)
    assert (fingerprint.first_seen_at, fingerprint.last_seen_at) == (NOW, LATER)


def test_an_agency_creating_its_clients_workspace_is_not_self_referral():
    agency = agency_make()
    click = click_make(agency, ip_hash="agency-office")
    commission = earn(referral_make(agency, source=Referral.Source.AGENCY, owner_email=agency.email, click=click,
                                    signup_ip_hash="agency-office"))
    assert (commission.status, rules_of(agency)) == (Commission.Status.PENDING, set())


def test_an_agencys_own_client_signed_up_through_its_link_is_not_self_referral():
    agency = agency_make()
    client = tenant_bare(parent_agency=agency.tenant, owner_email=agency.email)
    earn(referral_make(agency, tenant=client, source=Referral.Source.CLICK))
    assert rules_of(agency) == set()


def test_an_agency_referring_a_workspace_that_is_not_its_client_with_its_own_email_is_self_referral():
    agency = agency_make()
    earn(referral_make(agency, owner_email=agency.email, source=Referral.Source.CLICK))
    assert rules_of(agency) == {Rule.SELF_REFERRAL}


def test_a_disposable_email_domain_is_flagged():
    affiliate = affiliate_make()
    commission = earn(referral_make(affiliate, owner_email="x@mailinator.com"))
    assert (commission.status, rules_of(affiliate)) == (Commission.Status.HELD, {Rule.DISPOSABLE_EMAIL})


@override_settings(AFFILIATE_SIGNUP_BURST_COUNT=3, AFFILIATE_SIGNUP_BURST_MINUTES=10)
def test_a_burst_of_signups_from_one_network_flags_every_referral_of_the_burst():
    affiliate = affiliate_make()
    referrals = [referral_make(affiliate, signup_network_hash="net-1", signup_ip_hash=f"ip-{n}",
                               at=NOW + timedelta(minutes=n)) for n in range(3)]
    assert fraud_referral_check(referral=referrals[0], now=NOW) == []
    flags = fraud_referral_check(referral=referrals[2], now=NOW)
    assert {flag.referral_id for flag in flags} == {r.pk for r in referrals}
    assert "3 from one network within 10 minutes" in flags[0].reason


@override_settings(AFFILIATE_SIGNUP_BURST_COUNT=3, AFFILIATE_SIGNUP_BURST_MINUTES=10)
def test_signups_from_one_network_spread_over_time_are_not_a_burst():
    affiliate = affiliate_make()
    referrals = [referral_make(affiliate, signup_network_hash="net-1", at=NOW + timedelta(minutes=15 * n))
                 for n in range(3)]
    assert fraud_referral_check(referral=referrals[2], now=NOW) == []


@override_settings(AFFILIATE_REFUND_RATE_MIN_CUSTOMERS=4)
def test_refunds_at_the_programs_rate_flag_the_affiliate_and_hold_its_commissions():
    program_set(refund_rate_flag_percent=Decimal("25"))
    affiliate = affiliate_make()
    commissions = [earn(referral_make(affiliate)) for _ in range(4)]
    note = credit_note_issue(invoice=commissions[0].invoice, amount=Money(Decimal("10.00"), "USD"), reason="other",
                             memo="", actor="ops", now=NOW)
    commission_credit_note_adjust(credit_note=note, now=NOW)
    flag = FraudFlag.objects.get(affiliate=affiliate, rule=Rule.REFUND_RATE)
    assert "25 % (1 of 4 paying customers)" in flag.reason
    assert {c.status for c in Commission.objects.filter(affiliate=affiliate)} == {Commission.Status.HELD}


@override_settings(AFFILIATE_REFUND_RATE_MIN_CUSTOMERS=4)
def test_one_refund_among_fewer_customers_than_the_minimum_is_not_a_rate():
    affiliate = affiliate_make()
    commission = earn(referral_make(affiliate))
    note = credit_note_issue(invoice=commission.invoice, amount=Money(Decimal("10.00"), "USD"), reason="other",
                             memo="", actor="ops", now=NOW)
    commission_credit_note_adjust(credit_note=note, now=NOW)
    assert rules_of(affiliate) == set()


def test_too_few_paying_customers_hold_the_first_payout_until_there_are_enough():
    program_set(min_paying_customers=2)
    affiliate = affiliate_make()
    earn(referral_make(affiliate))
    commissions_approve_due(now=LATER)
    assert payouts_create(period_end=LATER.date(), now=LATER).created == []
    assert rules_of(affiliate) == {Rule.MIN_PAYING_CUSTOMERS}
    earn(referral_make(affiliate), at=NOW + timedelta(days=1))
    commissions_approve_due(now=LATER)
    run = payouts_create(period_end=LATER.date(), now=LATER)
    assert [p.amount for p in run.created] == [Decimal("20.00")]
    assert FraudFlag.objects.get(rule=Rule.MIN_PAYING_CUSTOMERS).status == FraudFlag.Status.CLEARED


def test_a_commission_above_the_manual_approval_amount_waits_for_ops():
    program_set(manual_approval_above=Decimal("50"))
    affiliate = affiliate_make()
    small = earn(referral_make(affiliate), "400.00")
    large = earn(referral_make(affiliate), "600.00")
    assert (small.status, large.status) == (Commission.Status.PENDING, Commission.Status.HELD)
    flag = FraudFlag.objects.get(rule=Rule.MANUAL_APPROVAL)
    assert flag.commission_id == large.pk


def test_clearing_a_flag_releases_its_commissions():
    affiliate = affiliate_make()
    commission = earn(referral_make(affiliate, owner_email="x@mailinator.com"))
    fraud_flag_clear(flag=FraudFlag.objects.get(affiliate=affiliate), actor="ops", now=NOW)
    commission.refresh_from_db()
    assert (commission.status, commission.held_reason) == (Commission.Status.PENDING, "")


def test_a_cleared_referral_rule_is_not_flagged_again_on_its_next_invoice():
    affiliate = affiliate_make()
    referral = referral_make(affiliate, owner_email="x@mailinator.com")
    earn(referral)
    fraud_flag_clear(flag=FraudFlag.objects.get(affiliate=affiliate), actor="ops", now=NOW)
    assert earn(referral, at=NOW + timedelta(days=31)).status == Commission.Status.PENDING


def test_clearing_one_flag_keeps_a_commission_another_open_flag_holds():
    affiliate = affiliate_make(email="me@mailinator.com")
    commission = earn(referral_make(affiliate, owner_email="me@mailinator.com"))
    assert rules_of(affiliate) == {Rule.SELF_REFERRAL, Rule.DISPOSABLE_EMAIL}
    fraud_flag_clear(flag=FraudFlag.objects.get(rule=Rule.DISPOSABLE_EMAIL), actor="ops", now=NOW)
    commission.refresh_from_db()
    assert commission.status == Commission.Status.HELD
    assert commission.held_reason.startswith("Self-referral")


def test_confirming_a_flag_reverses_its_commissions_and_future_ones():
    affiliate = affiliate_make()
    referral = referral_make(affiliate, owner_email="x@mailinator.com")
    commission = earn(referral)
    fraud_flag_confirm(flag=FraudFlag.objects.get(affiliate=affiliate), actor="ops", now=NOW)
    commission.refresh_from_db()
    assert commission.status == Commission.Status.REVERSED
    assert earn(referral, at=NOW + timedelta(days=31)).status == Commission.Status.REVERSED


def test_confirming_a_flag_after_payout_claws_the_commission_back():
    affiliate = affiliate_make()
    referral = referral_make(affiliate)
    commission = earn(referral)
    commissions_approve_due(now=LATER)
    payout = payouts_create(period_end=LATER.date(), now=LATER).created[0]
    payout_mark_paid(payout=payout, reference="r", actor="ops", now=LATER)
    flag = FraudFlag.objects.create(affiliate=affiliate, referral=referral, rule=Rule.SELF_REFERRAL,
                                    reason="Found later.", created_at=LATER)
    fraud_flag_confirm(flag=flag, actor="ops", now=LATER)
    claw_back = Commission.objects.get(source_key=f"fraud:{flag.pk}:{commission.pk}")
    assert (claw_back.amount, claw_back.status) == (Decimal("-10.00"), Commission.Status.APPROVED)
    assert Payout.objects.get(pk=payout.pk).status == Payout.Status.PAID


def test_a_flag_is_reviewed_once():
    affiliate = affiliate_make()
    earn(referral_make(affiliate, owner_email="x@mailinator.com"))
    flag = FraudFlag.objects.get(affiliate=affiliate)
    fraud_flag_clear(flag=flag, actor="ops", now=NOW)
    with pytest.raises(FraudFlagReviewed):
        fraud_flag_confirm(flag=flag, actor="ops", now=NOW)


def test_a_commission_ops_held_by_hand_stays_held_when_a_flag_on_it_is_cleared():
    affiliate = affiliate_make()
    commission = earn(referral_make(affiliate))
    commission_hold(commission=commission, reason="checking the customer", actor="ops@tollgate.test")
    flag = FraudFlag.objects.create(affiliate=affiliate, referral=commission.referral, rule=Rule.SELF_REFERRAL,
                                    reason="Looked odd.", created_at=NOW)
    fraud_flag_clear(flag=flag, actor="ops", now=NOW)
    commission.refresh_from_db()
    assert (commission.status, commission.held_reason) == (Commission.Status.HELD,
                                                           "Held by ops: checking the customer")
