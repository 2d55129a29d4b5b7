"""The affiliate portal: who may open it, the figures and conversion rates, commissions by status with their
invoice month, payouts, the link builder (public paths only) and the promotion code."""

from datetime import timedelta
from decimal import Decimal

import pytest

from affiliates.models import Affiliate, Commission, Payout, Referral
from affiliates.portal.selectors import portal_figures
from tests.support.clock import NOW
from tests.support.factories import OpsUserFactory
from tests.support.portal import (
    PORTAL,
    affiliate_with_account,
    clicks_record,
    commission_on,
    portal_client,
    referral_of,
)
from tests.support.referrals import first_invoice_paid
from tests.support.tenants import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def affiliate(frozen_now):
    return affiliate_with_account(code="rhea", at=NOW, promotion_code="RHEA20")


def test_an_anonymous_visitor_is_sent_to_sign_in(public_client):
    response = public_client.get(PORTAL)

    assert response.status_code == 302 and "next=%2Faffiliates%2Fportal%2F" in response["Location"]


def test_a_signed_in_user_without_an_affiliate_account_is_refused(db):
    ops = OpsUserFactory()
    client = client_for(None)
    client.force_login(ops, backend="django.contrib.auth.backends.ModelBackend")

    assert client.get(PORTAL).status_code == 403


def test_a_suspended_affiliate_is_refused(affiliate):
    Affiliate.objects.filter(pk=affiliate.pk).update(status=Affiliate.Status.SUSPENDED)

    assert portal_client(affiliate).get(PORTAL).status_code == 403


def test_the_figures_count_clicks_signups_trials_and_paying_customers(affiliate, tenant_alpha, tenant_beta):
    clicks_record(affiliate, 8, at=NOW)
    referral_of(tenant_alpha, affiliate, at=NOW, status=Referral.Status.PAYING, paid_at=NOW)
    referral_of(tenant_beta, affiliate, at=NOW, status=Referral.Status.TRIALING)

    figures = portal_figures(affiliate=affiliate)

    assert (figures.clicks, figures.signups, figures.trialing, figures.paying) == (8, 2, 1, 1)
    assert figures.click_to_signup == Decimal("25.0")
    assert figures.signup_to_paying == Decimal("50.0")


def test_conversion_rates_are_left_blank_before_any_click(affiliate):
    figures = portal_figures(affiliate=affiliate)

    assert figures.click_to_signup is None and figures.signup_to_paying is None


def test_the_overview_shows_the_figures_the_links_and_the_promotion_code(affiliate, tenant_alpha):
    clicks_record(affiliate, 3, at=NOW)
    referral_of(tenant_alpha, affiliate, at=NOW)

    response = portal_client(affiliate).get(PORTAL)

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="figure-clicks">3<' in body and 'id="figure-signups">1<' in body
    assert "/r/rhea" in body and "?ref=rhea" in body
    assert "RHEA20" in body
    assert "<svg" in body  # the charts, drawn on the server


def test_commissions_are_listed_by_status_with_their_invoice_month(affiliate, tenant_alpha):
    invoice = first_invoice_paid(tenant_alpha, at=NOW)
    referral = referral_of(tenant_alpha, affiliate, at=NOW, status=Referral.Status.PAYING, paid_at=NOW)
    commission_on(invoice, referral, amount="9.90", status=Commission.Status.PENDING, at=NOW)

    response = portal_client(affiliate).get(f"{PORTAL}commissions/")

    body = response.content.decode()
    assert "November 2026" in body and invoice.number in body and "9.90 USD" in body
    assert 'data-status="pending"' in body


def test_the_commissions_filter_shows_one_status(affiliate, tenant_alpha):
    invoice = first_invoice_paid(tenant_alpha, at=NOW)
    referral = referral_of(tenant_alpha, affiliate, at=NOW)
    commission_on(invoice, referral, amount="9.90", status=Commission.Status.APPROVED, at=NOW)
    commission_on(invoice, referral, amount="-2.00", status=Commission.Status.PENDING, at=NOW,
                  kind=Commission.Kind.ADJUSTMENT)

    body = portal_client(affiliate).get(f"{PORTAL}commissions/?status=approved").content.decode()

    assert 'data-status="approved"' in body and 'data-status="pending"' not in body


def test_the_overview_totals_commissions_per_status(affiliate, tenant_alpha):
    invoice = first_invoice_paid(tenant_alpha, at=NOW)
    referral = referral_of(tenant_alpha, affiliate, at=NOW)
    commission_on(invoice, referral, amount="9.90", status=Commission.Status.APPROVED, at=NOW)
    commission_on(invoice, referral, amount="-2.00", status=Commission.Status.APPROVED, at=NOW,
                  kind=Commission.Kind.ADJUSTMENT)

    body = portal_client(affiliate).get(PORTAL).content.decode()

    assert "7.90 USD" in body


def test_payouts_are_listed_with_their_commissions(affiliate, tenant_alpha):
    invoice = first_invoice_paid(tenant_alpha, at=NOW)
    referral = referral_of(tenant_alpha, affiliate, at=NOW)
    payout = Payout.objects.create(affiliate=affiliate, amount=Decimal("60.00"), currency="USD",
                                   method=affiliate.payout_method, period_end=NOW.date(), created_at=NOW)
    commission = commission_on(invoice, referral, amount="60.00", status=Commission.Status.APPROVED, at=NOW)
    Commission.objects.filter(pk=commission.pk).update(payout=payout)

    body = portal_client(affiliate).get(f"{PORTAL}payouts/").content.decode()

    assert "60.00 USD" in body and 'data-status="pending"' in body


@pytest.mark.parametrize("to, expected", [
    ("/pricing/", "/r/rhea?to=/pricing/"),
    ("http://localhost/signup/?plan=pro", "/r/rhea?to=/signup/%3Fplan%3Dpro"),
    ("", "/r/rhea"),
])
def test_the_link_builder_makes_a_tracked_link_to_a_public_page(affiliate, to, expected):
    response = portal_client(affiliate).get(PORTAL, {"to": to or "/"})

    assert response.status_code == 200
    assert 'data-testid="built-link"' in response.content.decode()
    assert expected in response.context["built_link"]


@pytest.mark.parametrize("to", ["https://evil.example/", "//evil.example/", "pricing", "/\\evil.example"])
def test_the_link_builder_refuses_a_link_that_leaves_the_site(affiliate, to):
    response = portal_client(affiliate).get(PORTAL, {"to": to})

    assert response.status_code == 400 and response.context["built_link"] is None


def test_the_commission_chart_counts_this_months_commissions(affiliate, tenant_alpha):
    invoice = first_invoice_paid(tenant_alpha, at=NOW - timedelta(days=40))
    referral = referral_of(tenant_alpha, affiliate, at=NOW)
    commission_on(invoice, referral, amount="12.00", status=Commission.Status.APPROVED, at=NOW)

    response = portal_client(affiliate).get(PORTAL)

    titles = [bar.title for bar in response.context["charts"]["commissions"].bars]
    assert "Nov 2026 Commissions: 12 USD" in titles
