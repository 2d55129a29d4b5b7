import uuid

import pytest

from billing.models import Plan, TenantPlan
from tests.support.api import api_client, api_key_for

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


@pytest.fixture
def tight_plan(tenant_alpha, settings):
    settings.RATE_LIMITS_ENABLED = True
    # Fresh counters for each test: the per-minute windows would otherwise carry over between tests.
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"limits-{uuid.uuid4().hex}"}}
    plan = Plan.objects.create(code="tight", name="Tight", api_requests_per_minute_per_key=3,
                               api_requests_per_minute_per_tenant=5)
    TenantPlan.objects.create(tenant=tenant_alpha, plan=plan)
    return plan


def test_every_api_response_carries_rate_limit_headers(tenant_alpha, tight_plan):
    response = api_client(tenant_alpha, api_key_for(tenant_alpha)).get("/api/v1/tenant")

    assert response.status_code == 200
    assert (response["X-RateLimit-Limit"], response["X-RateLimit-Remaining"]) == ("3", "2")
    assert 0 <= int(response["X-RateLimit-Reset"]) <= 60


def test_a_key_over_its_plans_rate_gets_429_rate_limited(tenant_alpha, tight_plan):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))

    statuses = [client.get("/api/v1/tenant").status_code for _ in range(4)]
    refused = client.get("/api/v1/tenant")

    assert statuses == [200, 200, 200, 429]
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused["Retry-After"]) >= 1
    assert refused["X-RateLimit-Remaining"] == "0"


def test_the_tenant_limit_holds_across_its_keys(tenant_alpha, tight_plan):
    first = api_client(tenant_alpha, api_key_for(tenant_alpha, name="one"))
    second = api_client(tenant_alpha, api_key_for(tenant_alpha, name="two"))

    statuses = [client.get("/api/v1/tenant").status_code for client in [first, second] * 3]

    assert statuses == [200, 200, 200, 200, 200, 429]


@pytest.fixture
def four_a_minute_for_both(tenant_alpha, tenant_beta, settings):
    """Both tenants on one plan of 4 calls a minute (per key and per tenant), so a counter the two shared would
    refuse the second tenant's calls."""
    settings.RATE_LIMITS_ENABLED = True
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"limits-{uuid.uuid4().hex}"}}
    plan = Plan.objects.create(code="four", name="Four", api_requests_per_minute_per_key=4,
                               api_requests_per_minute_per_tenant=4)
    for tenant in (tenant_alpha, tenant_beta):
        TenantPlan.objects.create(tenant=tenant, plan=plan)
    return plan


def test_a_tenant_that_exhausts_its_limit_leaves_another_tenant_on_the_same_plan_its_full_allowance(
        tenant_alpha, tenant_beta, four_a_minute_for_both):
    alpha = api_client(tenant_alpha, api_key_for(tenant_alpha))
    beta = api_client(tenant_beta, api_key_for(tenant_beta))

    alpha_statuses = [alpha.get("/api/v1/tenant").status_code for _ in range(5)]
    beta_statuses = [beta.get("/api/v1/tenant").status_code for _ in range(4)]

    assert alpha_statuses == [200, 200, 200, 200, 429]
    assert beta_statuses == [200, 200, 200, 200]


def test_with_redis_unreachable_the_api_keeps_serving(tenant_alpha, tight_plan, monkeypatch):
    from metering.limits import rate_limits as limits

    def unreachable(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(limits, "get_usage", unreachable)
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))

    assert [client.get("/api/v1/tenant").status_code for _ in range(5)] == [200] * 5


def test_with_redis_unreachable_limits_fail_closed_when_configured(tenant_alpha, tight_plan, monkeypatch, settings):
    from metering.limits import rate_limits as limits

    def unreachable(*args, **kwargs):
        raise ConnectionError("redis down")

    settings.RATE_LIMITS_FAIL_OPEN = False
    monkeypatch.setattr(limits, "get_usage", unreachable)

    response = api_client(tenant_alpha, api_key_for(tenant_alpha)).get("/api/v1/tenant")

    assert response.status_code == 429
