import pytest

from billing.models import Plan, TenantPlan
from billing.selectors import entitlements_for
from billing.services import tenant_plan_assign

pytestmark = pytest.mark.django_db


def test_assigning_a_plan_replaces_the_tenants_current_one(tenant_alpha):
    tenant_plan_assign(tenant=tenant_alpha, plan=Plan.objects.get(code="pro"))

    tenant_plan_assign(tenant=tenant_alpha, plan=Plan.objects.get(code="business"))

    assert list(TenantPlan.objects.filter(tenant=tenant_alpha).values_list("plan__code", flat=True)) == ["business"]


def test_this_process_sees_the_new_plan_once_the_assignment_commits(tenant_alpha, django_capture_on_commit_callbacks):
    assert entitlements_for(tenant=tenant_alpha).plan_code == "free"

    with django_capture_on_commit_callbacks(execute=True):
        tenant_plan_assign(tenant=tenant_alpha, plan=Plan.objects.get(code="pro"))

    assert entitlements_for(tenant=tenant_alpha).plan_code == "pro"


def test_another_tenants_plan_change_leaves_this_tenants_entitlements_as_they_were(
        tenant_alpha, tenant_beta, django_capture_on_commit_callbacks):
    # The change moves the lookup generation, so beta reloads; what it reloads is what it had.
    before = entitlements_for(tenant=tenant_beta)

    with django_capture_on_commit_callbacks(execute=True):
        tenant_plan_assign(tenant=tenant_alpha, plan=Plan.objects.get(code="pro"))

    assert entitlements_for(tenant=tenant_beta) == before
