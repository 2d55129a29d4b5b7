import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context, schema_exists

from accounts.models import User
from tenants import services
from tenants.exceptions import ApiKeyScopeExceeded, LoginLinkInvalid, SlugInvalid, SlugTaken
from tenants.models import ApiKey, Domain, Tenant
from tests.support.factories import PASSWORD, ProvisionedTenantFactory
from tests.support.tenants import owner_of

pytestmark = pytest.mark.django_db


def test_provision_creates_tenant_schema_domain_and_owner():
    result = ProvisionedTenantFactory(slug="acme-labs", owner_email="Founder@Acme.TEST")

    tenant = result.tenant
    assert result.created is True
    assert tenant.schema_name == "acme_labs"
    assert schema_exists("acme_labs")
    assert Domain.objects.get(tenant=tenant).domain == "acme-labs.localhost"
    with schema_context(tenant.schema_name):
        owner = User.objects.get()
        assert owner.email == "founder@acme.test"
        assert owner.check_password(PASSWORD)
    assert tenant.owner_email == "founder@acme.test"


def test_provisioned_schema_has_every_tenant_table_and_migration_record():
    result = ProvisionedTenantFactory()

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [result.tenant.schema_name]
        )
        tables = {row[0] for row in cursor.fetchall()}
        cursor.execute(f'SELECT count(*) FROM "{result.tenant.schema_name}".django_migrations')
        migrations_recorded = cursor.fetchone()[0]
    assert {"accounts_user", "django_session", "account_emailaddress", "mfa_authenticator"} <= tables
    assert "tenants_tenant" not in tables
    assert migrations_recorded > 10


def test_provision_twice_with_the_same_request_gives_one_tenant():
    first = ProvisionedTenantFactory(slug="twice", owner_email="a@twice.test")
    second = ProvisionedTenantFactory(slug="twice", owner_email="a@twice.test")

    assert second.created is False
    assert second.tenant.pk == first.tenant.pk
    assert second.owner_id == first.owner_id
    assert Tenant.objects.filter(slug="twice").count() == 1


def test_provision_of_a_taken_slug_by_another_owner_is_refused():
    ProvisionedTenantFactory(slug="taken", owner_email="first@taken.test")

    with pytest.raises(SlugTaken):
        ProvisionedTenantFactory(slug="taken", owner_email="second@taken.test")


def test_provision_replay_with_a_wrong_password_is_refused():
    ProvisionedTenantFactory(slug="replay", owner_email="owner@replay.test")

    with pytest.raises(SlugTaken):
        ProvisionedTenantFactory(slug="replay", owner_email="owner@replay.test", owner_password="not-the-password-9")


@pytest.mark.parametrize("slug", ["ab", "public", "tenant-template", "under_score", "dou--ble", "1digit"])
def test_provision_refuses_an_invalid_slug(slug):
    with pytest.raises(SlugInvalid):
        ProvisionedTenantFactory(slug=slug)


@pytest.mark.parametrize("step", ["_tenant_row_create", "_schema_clone", "_domain_create", "_owner_create"])
def test_provision_failing_at_any_step_leaves_nothing_behind(monkeypatch, step):
    original = getattr(services, step)

    def failing(*args, **kwargs):
        original(*args, **kwargs)
        raise RuntimeError(f"injected failure after {step}")

    monkeypatch.setattr(services, step, failing)

    with pytest.raises(RuntimeError):
        ProvisionedTenantFactory(slug="half-made")

    connection.set_schema_to_public()
    assert not Tenant.objects.filter(slug="half-made").exists()
    assert not Domain.objects.filter(domain="half-made.localhost").exists()
    assert not schema_exists("half_made")


def test_public_tenant_ensure_is_idempotent_and_routes_the_base_domain():
    services.public_tenant_ensure()
    services.public_tenant_ensure()

    public = Tenant.objects.get(schema_name="public")
    assert Domain.objects.get(domain="localhost").tenant == public


def test_provision_replay_checks_the_password_with_the_given_check_in_the_tenants_schema():
    ProvisionedTenantFactory(slug="checked", owner_email="owner@checked.test")
    calls = []

    def check(*, email, password):
        calls.append((connection.schema_name, email, password))
        return False

    with pytest.raises(SlugTaken):
        ProvisionedTenantFactory(slug="checked", owner_email="owner@checked.test", owner_password_check=check)

    assert calls == [("checked", "owner@checked.test", PASSWORD)]


def test_a_key_cannot_create_a_key_with_a_scope_it_lacks(tenant_alpha):
    with pytest.raises(ApiKeyScopeExceeded) as refused:
        services.api_key_create(tenant=tenant_alpha, name="escalate", scopes=["read", "ai"],
                                created_by="ci", creator_scopes=["read", "write"])

    assert refused.value.details == {"key_scopes": ["read", "write"], "requested_scopes": ["read", "ai"]}
    assert not ApiKey.objects.filter(tenant=tenant_alpha, name="escalate").exists()


def test_a_key_can_create_a_key_with_some_of_its_scopes(tenant_alpha):
    created = services.api_key_create(tenant=tenant_alpha, name="narrower", scopes=["read"], created_by="ci",
                                      creator_scopes=["read", "write"])

    assert created.api_key.scopes == ["read"]


def test_a_key_created_by_a_person_takes_any_scope(tenant_alpha):
    created = services.api_key_create(tenant=tenant_alpha, name="person", scopes=["ai", "write"],
                                      created_by="owner@alpha.test")

    assert created.api_key.scopes == ["ai", "write"]


def test_a_login_link_signs_in_the_owner_it_was_made_for(tenant_alpha):
    owner = owner_of(tenant_alpha)
    token = services.login_link_token_create(tenant=tenant_alpha, user_id=owner.pk)

    with schema_context(tenant_alpha.schema_name):
        assert services.login_link_token_check(token=token, tenant=tenant_alpha) == owner


def test_a_login_link_stops_working_once_the_owner_has_signed_in(tenant_alpha):
    owner = owner_of(tenant_alpha)
    token = services.login_link_token_create(tenant=tenant_alpha, user_id=owner.pk)
    with schema_context(tenant_alpha.schema_name):
        User.objects.filter(pk=owner.pk).update(last_login=timezone.now())

        with pytest.raises(LoginLinkInvalid):
            services.login_link_token_check(token=token, tenant=tenant_alpha)
