"""The agency dashboard (Clients): each client's plan, status, MRR and invoices; usage against limits and health
only for clients that granted access; totals."""

from datetime import timedelta

import pytest
from django.utils import timezone

from affiliates.agencies.selectors import agency_dashboard
from billing.analytics.services import churn_risks_refresh, revenue_snapshot_take
from tests.support.agencies import agency_make, client_make, grant_make, signed_in
from tests.support.billing import subscription_started
from tests.support.factories import PriceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency():
    return agency_make()


@pytest.fixture
def paying_clients(agency):
    """Two clients on a 99.00 monthly price since yesterday, snapshotted: one granted access, one not."""
    granted, private = client_make(agency, "client-one"), client_make(agency, "client-two")
    grant_make(granted)
    now = timezone.now()
    price = PriceFactory()
    for client in (granted, private):
        subscription_started(client, price, at=now - timedelta(days=1))
    day = (now - timedelta(days=1)).date()
    revenue_snapshot_take(day=day, now=now)
    churn_risks_refresh(day=day)
    return granted, private


def test_each_client_shows_its_plan_status_mrr_and_invoices(agency, paying_clients):
    dashboard = agency_dashboard(agency=agency, now=timezone.now())
    rows = {row.client.slug: row for row in dashboard.rows}
    for slug in ("client-one", "client-two"):
        assert rows[slug].client.status == "active"
        assert [(money.amount, money.currency) for money in rows[slug].mrr] == [(99, "USD")]
        assert len(rows[slug].invoices) == 1


def test_usage_and_health_are_shown_only_for_a_client_that_granted_access(agency, paying_clients):
    rows = {row.client.slug: row for row in agency_dashboard(agency=agency, now=timezone.now()).rows}
    assert rows["client-one"].usage is not None and rows["client-one"].health is not None
    assert rows["client-two"].usage is None and rows["client-two"].health is None


def test_the_totals_add_up_the_clients(agency, paying_clients):
    dashboard = agency_dashboard(agency=agency, now=timezone.now())
    assert (dashboard.client_count, dashboard.active_count, dashboard.granted_count) == (2, 2, 1)
    assert [(money.amount, money.currency) for money in dashboard.mrr_total] == [(198, "USD")]


def test_the_clients_page_shows_the_dashboard(agency, paying_clients):
    page = signed_in(agency).get("/clients/").content.decode()
    assert "Client One" in page and "Client Two" in page
    assert "Open workspace" in page  # client-one granted access
    assert page.count("Only with access") == 2  # client-two's usage and health
