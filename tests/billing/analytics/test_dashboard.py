"""The ops revenue dashboard in the admin: the headline per currency, the charts and tables, the stated forecast
and churn-risk methods, and a CSV for every table."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from billing.analytics.services import revenue_backfill
from tests.support.billing import subscription_started
from tests.support.factories import OpsUserFactory, PlanFactory, PriceFactory

D = Decimal
DASHBOARD = "/admin/billing/revenuesnapshot/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_client(public_client):
    public_client.force_login(OpsUserFactory())
    return public_client


@pytest.fixture
def snapshotted(tenant_alpha, tenant_beta):
    """alpha on Pro (99.00 USD), beta on Pro EUR (89.00), since Dec 1 2025; snapshots to Feb 28 2026."""
    plan = PlanFactory(code="dash-pro", name="Dash Pro")
    subscription_started(tenant_alpha, PriceFactory(plan=plan, code="dash-usd"), at=datetime(2025, 12, 1, tzinfo=UTC))
    subscription_started(tenant_beta, PriceFactory(plan=plan, code="dash-eur", currency="EUR",
                                                   fixed_amount=D("89.00")), at=datetime(2025, 12, 1, tzinfo=UTC))
    revenue_backfill(since=date(2025, 11, 30), now=datetime(2026, 3, 1, 2, tzinfo=UTC))


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_admin_index_links_to_the_dashboard(ops_client):
    assert DASHBOARD in ops_client.get("/admin/").content.decode()


def test_without_snapshots_the_page_says_how_to_take_them(ops_client):
    page = ops_client.get(DASHBOARD).content.decode()
    assert "No revenue snapshot yet" in page and "revenue_backfill --since" in page


def test_the_headline_shows_each_currency_in_its_own(ops_client, snapshotted):
    page = ops_client.get(DASHBOARD).content.decode()
    assert 'id="headline-USD"' in page and "99.00 USD" in page
    assert 'id="headline-EUR"' in page and "89.00 EUR" in page
    assert page.index('id="headline-USD"') < page.index('id="headline-EUR"')


def test_the_page_draws_its_charts_and_states_its_methods(ops_client, snapshotted):
    page = ops_client.get(DASHBOARD).content.decode()
    assert page.count('<svg class="revenue-chart"') == 4
    assert "MRR(next) = MRR × (1 − churn) + additions" in page
    assert "no support system yet" in page and "low usage 37.5 %" in page


def test_another_currency_shows_its_own_tables(ops_client, snapshotted):
    page = ops_client.get(DASHBOARD, {"currency": "EUR"}).content.decode()
    assert "MRR movements per month (EUR)" in page


def test_every_table_exports_as_csv(ops_client, snapshotted):
    page = ops_client.get(DASHBOARD).content.decode()
    keys = ["headline", "movements", "retention", "trials", "plans", "revenue", "payments", "lifetime",
            "churn_risk", "forecast", "forecast_inputs"]
    for key in keys:
        url = f"{DASHBOARD}export/{key}.csv"
        assert f"{url}?currency=USD" in page, key
        response = ops_client.get(url, {"currency": "USD"})
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv"), key


def test_the_movements_csv_has_plain_amounts_per_month(ops_client, snapshotted):
    url = f"{DASHBOARD}export/movements.csv"
    rows = csv_rows(ops_client.get(url, {"currency": "USD"}))
    assert rows[0][:3] == ["Month", "Starting MRR", "New"]
    by_month = {row[0]: row for row in rows[1:]}
    # Dec 2025: alpha's 99.00 is new; Jan and Feb: 99.00 kept.
    assert by_month["2025-12"][1:3] == ["0.00", "99.00"] and by_month["2025-12"][-2] == "99.00"
    assert by_month["2026-02"][1:3] == ["99.00", "0.00"]


def test_an_unknown_table_is_not_found(ops_client, snapshotted):
    url = f"{DASHBOARD}export/salaries.csv"
    assert ops_client.get(url).status_code == 404
