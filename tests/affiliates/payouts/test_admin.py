"""Ops' admin of commissions, payouts and fraud flags: lists, and each action calling its service."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from affiliates.commissions.services import commission_earn, commissions_approve_due
from affiliates.models import Commission, FraudFlag, Payout
from tests.support.clock import NOW
from tests.support.commissions import affiliate_make, invoice_paid, program_set, referral_make
from tests.support.factories import OpsUserFactory

pytestmark = pytest.mark.django_db

COMMISSIONS = "/admin/affiliates/commission/"
PAYOUTS = "/admin/affiliates/payout/"
FLAGS = "/admin/affiliates/fraudflag/"
LATER = NOW + timedelta(days=45)


@pytest.fixture
def admin_client(public_client):
    public_client.force_login(OpsUserFactory())
    return public_client


@pytest.fixture
def commission():
    program_set(payout_threshold=Decimal("1"), min_paying_customers=0)
    referral = referral_make(affiliate_make(payout_email="payee@paypal.test"))
    return commission_earn(invoice=invoice_paid(referral.tenant, "100.00"), now=NOW)


def act(client, url: str, action: str, *pks: int):
    return client.post(url, {"action": action, "_selected_action": [str(pk) for pk in pks]}, follow=True)


def test_lists_show_commissions_payouts_and_flags(admin_client, commission):
    for url in (COMMISSIONS, PAYOUTS, FLAGS, f"{COMMISSIONS}{commission.pk}/change/"):
        assert admin_client.get(url).status_code == 200


def test_approve_now_hold_and_reverse_actions(admin_client, commission):
    act(admin_client, COMMISSIONS, "approve_now", commission.pk)
    assert Commission.objects.get(pk=commission.pk).status == Commission.Status.APPROVED
    act(admin_client, COMMISSIONS, "hold", commission.pk)
    assert Commission.objects.get(pk=commission.pk).status == Commission.Status.HELD
    act(admin_client, COMMISSIONS, "reverse", commission.pk)
    assert Commission.objects.get(pk=commission.pk).status == Commission.Status.REVERSED


def test_create_batch_export_csv_and_mark_paid(admin_client, commission):
    commissions_approve_due(now=LATER)
    with time_machine.travel(LATER + timedelta(days=31), tick=False):
        admin_client.force_login(OpsUserFactory())  # a session of the travelled-to day
        response = admin_client.post(f"{PAYOUTS}create-batch/", follow=True)
    assert "1 payout(s) created" in response.content.decode()
    payout = Payout.objects.get()
    response = act(admin_client, PAYOUTS, "export_paypal", payout.pk)
    assert response["Content-Type"] == "text/csv"
    assert response.content.decode().startswith("payee@paypal.test,10.00,USD,")
    act(admin_client, PAYOUTS, "mark_paid", payout.pk)
    assert Payout.objects.get(pk=payout.pk).status == Payout.Status.PAID


def test_clear_and_confirm_flag_actions(admin_client):
    program_set(min_paying_customers=0)
    affiliate = affiliate_make()
    held = commission_earn(invoice=invoice_paid(referral_make(affiliate, owner_email="a@mailinator.com").tenant,
                                                "100.00"), now=NOW)
    act(admin_client, FLAGS, "clear", FraudFlag.objects.get(affiliate=affiliate).pk)
    assert Commission.objects.get(pk=held.pk).status == Commission.Status.PENDING
    other = commission_earn(invoice=invoice_paid(referral_make(affiliate, owner_email="b@yopmail.com").tenant,
                                                 "100.00"), now=NOW)
    act(admin_client, FLAGS, "confirm", FraudFlag.objects.get(referral=other.referral).pk)
    assert Commission.objects.get(pk=other.pk).status == Commission.Status.REVERSED
