"""billing.selectors: what a tenant's plan allows, and the plan lookups the pages use."""

from decimal import Decimal

import pytest

from billing.models import Plan, PlanQuota
from billing.selectors import entitlements_for, plan_list_public, tenant_plan
from billing.services import tenant_plan_assign
from tests.support.factories import PlanFactory, PlanQuotaFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def gold(tenant_alpha) -> Plan:
    """A plan with every limit set and two quotas, assigned to alpha."""
    plan = PlanFactory(code="gold", name="Gold", api_requests_per_minute_per_key=7,
                       api_requests_per_minute_per_tenant=11, concurrent_ai_requests=3,
                       monthly_ai_token_allowance=123_456, seats=4, custom_domains=2, team=True, sso=True)
    PlanQuotaFactory(plan=plan, meter_code="api_calls", monthly_limit=Decimal("500"))
    PlanQuotaFactory(plan=plan, meter_code="compute_seconds", monthly_limit=Decimal("2.5"),
                     behaviour=PlanQuota.Behaviour.SOFT)
    tenant_plan_assign(tenant=tenant_alpha, plan=plan)
    return plan


def test_a_tenant_without_an_assigned_plan_is_on_the_free_plan(tenant_alpha):
    entitlements = entitlements_for(tenant=tenant_alpha)

    assert (entitlements.plan_code, entitlements.api_requests_per_minute_per_key) == ("free", 60)
    assert entitlements.quota_for("api_calls").monthly_limit == Decimal("1000")


def test_an_assigned_plan_gives_its_limits_and_features(tenant_alpha, gold):
    entitlements = entitlements_for(tenant=tenant_alpha)

    assert (entitlements.plan_code, entitlements.plan_name) == ("gold", "Gold")
    assert (entitlements.api_requests_per_minute_per_key, entitlements.api_requests_per_minute_per_tenant,
            entitlements.concurrent_ai_requests, entitlements.monthly_ai_token_allowance, entitlements.seats,
            entitlements.custom_domains) == (7, 11, 3, 123_456, 4, 2)
    assert (entitlements.team, entitlements.sso, entitlements.white_label, entitlements.client_tenants) == (
        True, True, False, False)


def test_each_quota_keeps_its_exact_limit_and_whether_it_is_hard(tenant_alpha, gold):
    quotas = entitlements_for(tenant=tenant_alpha).quotas

    assert (quotas["api_calls"].monthly_limit, quotas["api_calls"].hard) == (Decimal("500"), True)
    assert (quotas["compute_seconds"].monthly_limit, quotas["compute_seconds"].hard) == (Decimal("2.5"), False)


def test_a_meter_without_a_quota_has_none(tenant_alpha, gold):
    assert entitlements_for(tenant=tenant_alpha).quota_for("ai_input_tokens") is None


def test_one_tenants_plan_is_not_another_tenants(tenant_alpha, tenant_beta, gold):
    assert entitlements_for(tenant=tenant_beta).plan_code == "free"


def test_without_a_plan_or_a_free_plan_nothing_is_allowed(tenant_alpha):
    Plan.objects.filter(code="free").update(code="free-retired")

    entitlements = entitlements_for(tenant=tenant_alpha)

    assert (entitlements.plan_code, entitlements.monthly_ai_token_allowance, entitlements.quotas) == ("none", 0, {})
    assert not (entitlements.team or entitlements.sso or entitlements.white_label or entitlements.client_tenants)


def test_the_public_plan_list_leaves_out_private_and_inactive_plans():
    PlanFactory(code="hidden", is_public=False)
    PlanFactory(code="retired", is_active=False)

    codes = [plan.code for plan in plan_list_public()]

    assert codes == ["free", "starter", "pro", "business", "agency", "white-label"]


def test_tenant_plan_is_the_assigned_plan(tenant_alpha, gold):
    assert tenant_plan(tenant_alpha) == gold


def test_tenant_plan_without_an_assignment_is_the_free_plan(tenant_alpha):
    assert tenant_plan(tenant_alpha).code == "free"
