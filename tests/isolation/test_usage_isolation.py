"""The staff Usage page of tenant A shows only A's usage and A's plan, and B's session gets nothing on A's host."""

import re
from datetime import datetime, timezone

import pytest

from billing.models import Plan
from billing.services import tenant_plan_assign
from tests.support.tenants import client_for
from tests.support.usage import api_calls, endpoint_calls, meter_section, shown_usage, tokens

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

DAY = datetime(2026, 11, 18, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def usage_of_both(tenant_alpha, tenant_beta) -> None:
    """Different amounts in each tenant, on the same day and meters, so any mix-up changes a number."""
    api_calls(tenant_alpha, 3, at=DAY)
    tokens(tenant_alpha, 40, at=DAY)
    api_calls(tenant_beta, 11, at=DAY)
    tokens(tenant_beta, 9_000, at=DAY)


def test_alphas_usage_page_shows_only_alphas_figures(alpha_owner_client, usage_of_both):
    response = alpha_owner_client.get("/usage/")

    assert (shown_usage(response, "api_calls"), shown_usage(response, "ai_input_tokens")) == ("3", "40")
    assert b"9,000" not in response.content and b"11 calls" not in response.content


def test_alphas_chart_shows_only_alphas_days(alpha_owner_client, usage_of_both):
    section = meter_section(alpha_owner_client.get("/usage/"), "api_calls")

    assert "<title>18 Nov 2026: 3 calls</title>" in section
    assert re.search(r'<text class="chart-label"[^>]*>3</text>', section)


def test_betas_usage_page_shows_only_betas_figures(beta_owner_client, usage_of_both):
    response = beta_owner_client.get("/usage/")

    assert (shown_usage(response, "api_calls"), shown_usage(response, "ai_input_tokens")) == ("11", "9,000")


def test_alphas_page_shows_alphas_plan_not_betas(alpha_owner_client, tenant_beta, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        tenant_plan_assign(tenant=tenant_beta, plan=Plan.objects.get(code="pro"))

    response = alpha_owner_client.get("/usage/")

    assert b'<p class="stat-value">Free</p>' in response.content and b"Pro" not in response.content
    assert "of 1,000" in meter_section(response, "api_calls")


def test_a_beta_session_on_alphas_usage_page_is_sent_to_login(beta_owner_client, tenant_alpha, usage_of_both):
    on_alpha = client_for(tenant_alpha)
    on_alpha.cookies = beta_owner_client.cookies

    response = on_alpha.get("/usage/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_alphas_usage_page_shows_neither_betas_endpoints_nor_betas_wallet(alpha_owner_client, tenant_beta):
    from metering.wallets.services import wallet_credit

    endpoint_calls(tenant_beta, "/api/v1/beta-only", "GET", [200, 200])
    wallet_credit(tenant=tenant_beta, tokens=777_777, kind="purchase", reason="Beta pack", idempotency_key="beta")

    response = alpha_owner_client.get("/usage/")

    assert b"/api/v1/beta-only" not in response.content and b"No API calls yet this month." in response.content
    assert b"777,777" not in response.content and b"Beta pack" not in response.content
