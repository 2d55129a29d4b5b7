import re
from datetime import datetime, timezone

import pytest

from billing.models import Plan
from billing.services import tenant_plan_assign
from metering.models import Meter
from tests.support.staff import ROLES, staff_client
from tests.support.usage import api_calls, endpoint_calls, meter_section, shown_usage, tokens

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


# --- Who may see it -------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_every_staff_role_sees_the_usage_page(tenant_alpha, role):
    response = staff_client(tenant_alpha, role).get("/usage/")

    assert response.status_code == 200
    assert b'aria-current="page">Usage<' in response.content


def test_anonymous_visitors_are_sent_to_login(alpha_client):
    response = alpha_client.get("/usage/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- What it shows --------------------------------------------------------------------------------

def test_usage_this_month_is_shown_per_meter(alpha_owner_client, tenant_alpha):
    api_calls(tenant_alpha, 3)
    tokens(tenant_alpha, 1200)

    response = alpha_owner_client.get("/usage/")

    assert shown_usage(response, "api_calls") == "3"
    assert shown_usage(response, "ai_input_tokens") == "1,200"
    assert shown_usage(response, "coach_messages") == "0"


def test_last_months_usage_is_not_counted_in_this_month(alpha_owner_client, tenant_alpha):
    api_calls(tenant_alpha, 4, at=datetime(2026, 10, 31, 23, 30, tzinfo=timezone.utc))
    api_calls(tenant_alpha, 1, at=datetime(2026, 11, 1, 0, 30, tzinfo=timezone.utc))

    response = alpha_owner_client.get("/usage/")

    assert shown_usage(response, "api_calls") == "1"


def test_the_plan_name_is_shown(alpha_owner_client):
    response = alpha_owner_client.get("/usage/")

    assert b'<p class="stat-value">Free</p>' in response.content


def test_a_quota_shows_the_limit_and_the_percent_used(alpha_owner_client, tenant_alpha):
    api_calls(tenant_alpha, 250)

    section = meter_section(alpha_owner_client.get("/usage/"), "api_calls")

    assert "of 1,000" in section
    assert '<strong class="quota-percent">25%</strong>' in section
    assert 'aria-valuenow="25"' in section and 'data-width-percent="25"' in section


def test_a_hard_quota_is_labelled_hard(alpha_owner_client):
    section = meter_section(alpha_owner_client.get("/usage/"), "api_calls")

    assert "Hard limit" in section and "Soft limit" not in section


def test_a_soft_quota_is_labelled_soft(alpha_owner_client, tenant_alpha, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        tenant_plan_assign(tenant=tenant_alpha, plan=Plan.objects.get(code="pro"))

    section = meter_section(alpha_owner_client.get("/usage/"), "api_calls")

    assert "Soft limit" in section and "of 100,000" in section


def test_a_meter_without_a_quota_says_no_limit(alpha_owner_client):
    section = meter_section(alpha_owner_client.get("/usage/"), "ai_input_tokens")

    assert "No limit" in section and "progressbar" not in section


def test_a_quota_reached_shows_a_full_bar_in_the_over_state(alpha_owner_client, tenant_alpha):
    api_calls(tenant_alpha, 1000)

    section = meter_section(alpha_owner_client.get("/usage/"), "api_calls")

    assert "quota-over" in section and '<strong class="quota-percent">100%</strong>' in section


def test_a_little_usage_of_a_large_quota_is_not_shown_as_zero_percent(alpha_owner_client, tenant_alpha):
    api_calls(tenant_alpha, 1)

    section = meter_section(alpha_owner_client.get("/usage/"), "api_calls")

    assert '<strong class="quota-percent">&lt;1%</strong>' in section


def test_a_month_without_usage_says_so(alpha_owner_client):
    response = alpha_owner_client.get("/usage/")

    assert b"No usage yet this month." in response.content
    assert b'<svg class="usage-chart' not in response.content


def test_the_empty_notice_is_gone_once_there_is_usage(alpha_owner_client, tenant_alpha):
    api_calls(tenant_alpha, 1)

    response = alpha_owner_client.get("/usage/")

    assert b"No usage yet this month." not in response.content


def test_inactive_meters_are_not_shown(alpha_owner_client):
    Meter.objects.filter(code="coach_messages").update(is_active=False)

    response = alpha_owner_client.get("/usage/")

    assert b"meter-coach_messages-title" not in response.content
    assert b"meter-api_calls-title" in response.content


# --- The chart ------------------------------------------------------------------------------------

def test_the_chart_has_one_bar_per_day_for_the_last_30_days(alpha_owner_client, tenant_alpha):
    api_calls(tenant_alpha, 2, at=datetime(2026, 11, 18, 9, 0, tzinfo=timezone.utc))

    section = meter_section(alpha_owner_client.get("/usage/"), "api_calls")

    assert section.count('class="chart-bar"') == 30
    assert "<title>22 Oct 2026: 0 calls</title>" in section
    assert "<title>20 Nov 2026: 0 calls</title>" in section


def test_each_bar_is_titled_with_its_days_usage(alpha_owner_client, tenant_alpha):
    api_calls(tenant_alpha, 2, at=datetime(2026, 11, 18, 9, 0, tzinfo=timezone.utc))
    api_calls(tenant_alpha, 5, at=datetime(2026, 10, 25, 9, 0, tzinfo=timezone.utc))

    section = meter_section(alpha_owner_client.get("/usage/"), "api_calls")

    assert "<title>18 Nov 2026: 2 calls</title>" in section
    assert "<title>25 Oct 2026: 5 calls</title>" in section


def test_the_chart_labels_its_max_value_and_its_first_and_last_days(alpha_owner_client, tenant_alpha):
    api_calls(tenant_alpha, 1_200, at=datetime(2026, 11, 18, 9, 0, tzinfo=timezone.utc))

    section = meter_section(alpha_owner_client.get("/usage/"), "api_calls")

    assert re.search(r'<text class="chart-label"[^>]*>1,200</text>', section)
    assert re.search(r'<text class="chart-label"[^>]*>22 Oct</text>', section)
    assert re.search(r'<text class="chart-label"[^>]*>20 Nov</text>', section)


def test_a_meter_without_usage_in_30_days_says_so_instead_of_an_empty_chart(alpha_owner_client, tenant_alpha):
    api_calls(tenant_alpha, 1)

    section = meter_section(alpha_owner_client.get("/usage/"), "ai_input_tokens")

    assert "No usage in the last 30 days." in section and "<svg" not in section



# --- API calls per endpoint and the wallet ------------------------------------------------------------

def endpoint_row(response, label: str) -> list[str]:
    html = response.content.decode()
    start = html.index(f'data-endpoint="{label}"')
    return re.findall(r"<td>(?:<code>)?([^<]*)", html[start:html.index("</tr>", start)])


def test_api_calls_are_shown_per_endpoint_with_billable_and_refused_ones(alpha_owner_client, tenant_alpha):
    endpoint_calls(tenant_alpha, "/api/v1/events", "POST", [202, 202, 400])
    endpoint_calls(tenant_alpha, "/api/v1/tenant", "GET", [200])

    response = alpha_owner_client.get("/usage/")

    assert endpoint_row(response, "POST /api/v1/events") == ["/api/v1/events", "POST", "3", "2", "1"]
    assert endpoint_row(response, "GET /api/v1/tenant") == ["/api/v1/tenant", "GET", "1", "1", "0"]
    assert "<title>POST /api/v1/events: 3 calls, 2 billable</title>" in response.content.decode()


def test_without_api_calls_the_endpoint_chart_says_so(alpha_owner_client):
    response = alpha_owner_client.get("/usage/")

    assert b"No API calls yet this month." in response.content


def test_the_wallet_balance_and_latest_entries_are_shown_to_billing_roles(tenant_alpha):
    from metering.wallets.services import wallet_credit

    wallet_credit(tenant=tenant_alpha, tokens=250_000, kind="purchase", reason="Pack", idempotency_key="pack-1")

    response = staff_client(tenant_alpha, "billing").get("/usage/")

    assert re.search(rb'id="usage-wallet-balance">250,000<', response.content)
    assert b'id="usage-wallet-entries"' in response.content and b"+250,000" in response.content
    assert b'href="/wallet/#wallet-buy-title"' in response.content


def test_members_see_the_wallet_balance_but_not_its_ledger_or_buying(tenant_alpha):
    from metering.wallets.services import wallet_credit

    wallet_credit(tenant=tenant_alpha, tokens=1_000, kind="purchase", reason="Pack", idempotency_key="pack-1")

    response = staff_client(tenant_alpha, "member").get("/usage/")

    assert re.search(rb'id="usage-wallet-balance">1,000<', response.content)
    assert b'id="usage-wallet-entries"' not in response.content and b"Buy tokens" not in response.content
