"""An affiliate's portal shows its own figures, commissions and payouts only; the portal is not served on a
tenant's host; a tenant's Referrals page shows its own link, counts and rewards only."""

from decimal import Decimal

import pytest

from affiliates.models import Commission, Payout, Referral
from affiliates.referral_rewards.services import referral_reward_grant
from tests.support.clock import NOW
from tests.support.factories import TenantFactory
from tests.support.portal import (
    PORTAL,
    affiliate_with_account,
    clicks_record,
    commission_on,
    portal_client,
    referral_of,
)
from tests.support.referrals import first_invoice_paid, program_set, referrer_account, tenant_referred
from tests.support.tenants import logged_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_affiliates(tenant_alpha, tenant_beta):
    """Rhea referred alpha (small figures); Zeno referred beta (large, distinctive figures and a payout)."""
    rhea = affiliate_with_account(code="rhea", at=NOW)
    zeno = affiliate_with_account(code="zeno", at=NOW, promotion_code="ZENO77")
    clicks_record(rhea, 2, at=NOW)
    clicks_record(zeno, 41, at=NOW)
    referral_of(tenant_alpha, rhea, at=NOW)
    zeno_referral = referral_of(tenant_beta, zeno, at=NOW, status=Referral.Status.PAYING, paid_at=NOW)
    invoice = first_invoice_paid(tenant_beta, at=NOW)
    commission = commission_on(invoice, zeno_referral, amount="777.77", status=Commission.Status.APPROVED, at=NOW)
    payout = Payout.objects.create(affiliate=zeno, amount=Decimal("777.77"), currency="USD", method=zeno.payout_method,
                                   period_end=NOW.date(), created_at=NOW)
    Commission.objects.filter(pk=commission.pk).update(payout=payout)
    return rhea, zeno, invoice


@pytest.mark.parametrize("page", ["", "commissions/", "payouts/", "commissions/?status=approved"])
def test_an_affiliate_sees_none_of_another_affiliates_figures(two_affiliates, page):
    rhea, _zeno, invoice = two_affiliates

    body = portal_client(rhea).get(f"{PORTAL}{page}").content.decode()

    assert "777.77" not in body and invoice.number not in body
    assert "ZENO77" not in body and "/r/zeno" not in body


def test_an_affiliates_figures_count_its_own_clicks_and_signups_only(two_affiliates):
    rhea, _zeno, _invoice = two_affiliates

    body = portal_client(rhea).get(PORTAL).content.decode()

    assert 'id="figure-clicks">2<' in body and 'id="figure-signups">1<' in body


def test_the_portal_is_not_served_on_a_tenants_host(two_affiliates, tenant_alpha):
    assert logged_in_client(tenant_alpha).get(PORTAL).status_code == 404


def test_a_tenants_referrals_page_shows_its_own_referrals_only(tenant_alpha, tenant_beta):
    program_set(referrer_reward_amount=Decimal("31"))
    referred = TenantFactory()
    tenant_referred(referred=referred, referrer=tenant_beta, at=NOW)
    referral_reward_grant(invoice=first_invoice_paid(referred, at=NOW), now=NOW)

    body = logged_in_client(tenant_alpha).get("/referrals/").content.decode()

    assert 'id="referrals-signed-up">0<' in body and 'id="referrals-rewards">0<' in body
    assert "31.00 USD account credit" not in body and f"/r/{referrer_account(tenant_beta).code}" not in body


def test_a_referrer_never_sees_the_name_of_the_workspace_it_referred(tenant_alpha, tenant_beta):
    tenant_referred(referred=tenant_beta, referrer=tenant_alpha, at=NOW)

    body = logged_in_client(tenant_alpha).get("/referrals/").content.decode()

    assert tenant_beta.name not in body and tenant_beta.slug not in body
