"""Claims racing on their own connections: the hostname still has one holder, the plan's limit still holds."""

import pytest

from billing.services import tenant_plan_assign
from tests.support.clock import NOW
from tests.support.concurrency import run_together
from tests.support.factories import PlanFactory, TenantFactory
from whitelabel.models import CustomDomain


@pytest.fixture
def plan_of_one(committed_db):
    plan = PlanFactory(white_label=True, custom_domains=1)
    yield plan
    CustomDomain.objects.filter(tenant__plan_assignment__plan=plan).delete()
    plan.assignments.all().delete()
    plan.delete()


def claim_of(tenant, hostname):
    from whitelabel.domains.services import domain_claim

    return lambda: domain_claim(tenant=tenant, hostname=hostname, now=NOW)


def test_two_tenants_racing_for_one_hostname_leave_it_one_holder(plan_of_one):
    first, second = TenantFactory(), TenantFactory()
    for tenant in (first, second):
        tenant_plan_assign(tenant=tenant, plan=plan_of_one)

    outcomes = run_together(claim_of(first, "portal.example.com"), claim_of(second, "portal.example.com"))

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["CustomDomain", "HostnameTaken"]
    assert CustomDomain.objects.filter(hostname="portal.example.com").count() == 1


def test_one_tenant_racing_two_claims_past_its_plan_gets_one(plan_of_one):
    tenant = TenantFactory()
    tenant_plan_assign(tenant=tenant, plan=plan_of_one)

    outcomes = run_together(claim_of(tenant, "one.example.com"), claim_of(tenant, "two.example.com"))

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["CustomDomain", "CustomDomainLimitReached"]
    assert CustomDomain.objects.filter(tenant=tenant).count() == 1
