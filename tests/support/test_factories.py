"""The factories make only what the platform could have made: through its services, in the right schema."""

import pytest
from django_tenants.utils import schema_context, schema_exists

from accounts.models import Role, User
from metering.models import WalletEntry
from tests.support.api import api_client
from tests.support.factories import (
    PASSWORD,
    ApiKeyFactory,
    OpsUserFactory,
    PlanQuotaFactory,
    StaffUserFactory,
    TenantFactory,
    WalletFactory,
)

pytestmark = pytest.mark.django_db


def test_a_factory_tenant_is_provisioned_with_its_schema_and_owner():
    tenant = TenantFactory()

    assert schema_exists(tenant.schema_name)
    with schema_context(tenant.schema_name):
        owner = User.objects.get()
    assert (owner.email, owner.role) == (tenant.owner_email, Role.OWNER)
    assert owner.check_password(PASSWORD)


def test_staff_users_are_made_in_their_tenants_schema_only(tenant_alpha, tenant_beta):
    user = StaffUserFactory(tenant=tenant_alpha, role=Role.ADMIN)

    with schema_context(tenant_alpha.schema_name):
        assert User.objects.get(email=user.email).role == Role.ADMIN
    with schema_context(tenant_beta.schema_name):
        assert not User.objects.filter(email=user.email).exists()
    assert not User.objects.filter(email=user.email).exists()  # the public schema holds ops accounts only


def test_ops_users_are_superusers_in_the_public_schema(tenant_alpha):
    operator = OpsUserFactory()

    assert User.objects.get(pk=operator.pk).is_superuser and operator.is_staff
    with schema_context(tenant_alpha.schema_name):
        assert not User.objects.filter(email=operator.email).exists()


def test_a_factory_quota_comes_with_its_own_plan():
    first, second = PlanQuotaFactory(), PlanQuotaFactory()

    assert first.plan != second.plan


def test_a_factory_wallets_balance_is_backed_by_its_ledger(tenant_alpha):
    wallet = WalletFactory(tenant=tenant_alpha, tokens=2_500)

    assert wallet.balance == 2_500
    assert [entry.tokens for entry in WalletEntry.objects.filter(wallet=wallet)] == [2_500]


def test_a_factory_api_key_authenticates_on_its_tenants_host_only(tenant_alpha, tenant_beta):
    created = ApiKeyFactory(tenant=tenant_alpha, scopes=["read"])

    assert api_client(tenant_alpha, created.secret).get("/api/v1/tenant").status_code == 200
    assert api_client(tenant_beta, created.secret).get("/api/v1/tenant").status_code == 401
