import pytest

from billing.services import tenant_plan_assign
from tests.support.dns import dns_zone
from tests.support.factories import PlanFactory

__all__ = ["dns_zone"]


@pytest.fixture
def domains_plan(db):
    """A white-label plan allowing two custom domains."""
    return PlanFactory(white_label=True, custom_domains=2)


@pytest.fixture
def alpha_branded(tenant_alpha, domains_plan):
    tenant_plan_assign(tenant=tenant_alpha, plan=domains_plan)
    return tenant_alpha


@pytest.fixture
def beta_branded(tenant_beta, domains_plan):
    tenant_plan_assign(tenant=tenant_beta, plan=domains_plan)
    return tenant_beta
