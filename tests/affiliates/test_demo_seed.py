"""The demo's affiliate program (`affiliates_demo_seed`, run by ./dev up): an approved affiliate who can sign in,
with clicks; three referred workspaces (one paying with an approved commission, one in its holding period, one
refunded with a claw-back); a payout batch ready to export; and nothing new on a second run."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from affiliates.models import Affiliate, Commission, Payout, Referral, ReferralClick
from tests.support.tenants import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db) -> Affiliate:
    call_command("affiliates_demo_seed", stdout=open("/dev/null", "w"))
    return Affiliate.objects.get(email="rhea@partners.test")


def test_the_demo_affiliate_signs_in_and_sees_its_portal(seeded):
    client = client_for(None)
    assert client.login(email="rhea@partners.test", password="tollgate-demo-2026")

    response = client.get("/affiliates/portal/")

    assert response.status_code == 200
    assert response.context["figures"].signups == 3


def test_the_demo_has_clicks_and_three_referrals_bound_through_clicks(seeded):
    assert ReferralClick.objects.filter(affiliate=seeded).count() == 48
    referrals = Referral.objects.filter(affiliate=seeded)
    assert sorted(referrals.values_list("tenant__slug", flat=True)) == ["lumen", "orbit", "quill"]
    assert all(referral.click_id for referral in referrals)


def test_the_paying_workspace_has_an_approved_commission_in_the_payout(seeded):
    earned = Commission.objects.get(referral__tenant__slug="lumen")
    assert earned.status == Commission.Status.APPROVED and earned.amount == Decimal("99.9000")
    assert earned.payout is not None and earned.payout.status == Payout.Status.PENDING


def test_the_recent_workspace_has_a_commission_in_its_holding_period(seeded):
    assert Commission.objects.get(referral__tenant__slug="orbit").status == Commission.Status.PENDING


def test_the_refunded_workspace_has_its_commission_clawed_back(seeded):
    amounts = sorted(Commission.objects.filter(referral__tenant__slug="quill").values_list("kind", "amount"))
    assert amounts == [("adjustment", Decimal("-9.9000")), ("earned", Decimal("9.9000"))]


def test_a_payout_batch_is_ready_to_export(seeded):
    payout = Payout.objects.get(affiliate=seeded)
    assert payout.status == Payout.Status.PENDING and payout.amount == Decimal("99.9000")


def test_a_second_run_changes_nothing(seeded):
    counts = (ReferralClick.objects.count(), Referral.objects.count(), Commission.objects.count(),
              Payout.objects.count(), Affiliate.objects.count())

    call_command("affiliates_demo_seed", stdout=open("/dev/null", "w"))

    assert counts == (ReferralClick.objects.count(), Referral.objects.count(), Commission.objects.count(),
                      Payout.objects.count(), Affiliate.objects.count())
