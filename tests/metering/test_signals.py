"""A workspace has its plan's AI-token allowance from the moment it exists, and a plan change tops the month's
allowance up at once: the receivers in metering.signals, run once the change has committed."""

from datetime import datetime, timezone

import pytest

from billing.models import Plan
from billing.services import tenant_plan_assign
from metering.models import Wallet, WalletEntry
from metering.usage.selectors import month_bounds
from metering.wallets.services import wallet_monthly_grants_run
from tests.support.factories import TenantFactory

pytestmark = pytest.mark.django_db


def month_key() -> str:
    start, _ = month_bounds(datetime.now(timezone.utc))
    return f"grant:{start:%Y-%m}"


def grants(tenant) -> list[tuple[str, int]]:
    return list(WalletEntry.objects.filter(wallet__tenant=tenant, kind="grant").order_by("id")
                .values_list("idempotency_key", "tokens"))


def test_new_free_workspace_has_its_allowance_at_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        tenant = TenantFactory()

    wallet = Wallet.objects.get(tenant=tenant)
    assert (wallet.balance, wallet.allowance) == (50_000, 50_000)
    assert grants(tenant) == [(month_key(), 50_000)]


def test_the_allowance_is_granted_only_once_provisioning_has_committed(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        tenant = TenantFactory()

        assert not Wallet.objects.filter(tenant=tenant).exists()


def test_monthly_job_after_provisioning_grants_nothing_more(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        tenant = TenantFactory()
    granted_at_provisioning = grants(tenant)

    wallet_monthly_grants_run()
    wallet_monthly_grants_run()

    assert granted_at_provisioning == grants(tenant) == [(month_key(), 50_000)]
    assert Wallet.objects.get(tenant=tenant).balance == 50_000


def test_plan_change_grants_once_per_period(tenant_alpha, django_capture_on_commit_callbacks):
    free, pro, business = (Plan.objects.get(code=code) for code in ("free", "pro", "business"))

    with django_capture_on_commit_callbacks(execute=True):
        tenant_plan_assign(tenant=tenant_alpha, plan=free)
    with django_capture_on_commit_callbacks(execute=True):
        tenant_plan_assign(tenant=tenant_alpha, plan=pro)
    with django_capture_on_commit_callbacks(execute=True):
        tenant_plan_assign(tenant=tenant_alpha, plan=free)
    with django_capture_on_commit_callbacks(execute=True):
        tenant_plan_assign(tenant=tenant_alpha, plan=pro)
    with django_capture_on_commit_callbacks(execute=True):
        tenant_plan_assign(tenant=tenant_alpha, plan=business)

    key = month_key()
    assert grants(tenant_alpha) == [(key, 50_000), (f"{key}:pro", 1_950_000), (f"{key}:business", 8_000_000)]
    wallet = Wallet.objects.get(tenant=tenant_alpha)
    assert (wallet.balance, wallet.allowance) == (10_000_000, 10_000_000)


def test_a_suspended_workspace_gets_no_allowance_from_a_plan_change(tenant_alpha,
                                                                   django_capture_on_commit_callbacks):
    from tenants.models import Tenant

    Tenant.objects.filter(pk=tenant_alpha.pk).update(status=Tenant.Status.SUSPENDED)
    tenant_alpha.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        tenant_plan_assign(tenant=tenant_alpha, plan=Plan.objects.get(code="pro"))

    assert not Wallet.objects.filter(tenant=tenant_alpha).exists()
