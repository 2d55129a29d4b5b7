import os

import httpx2
import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import override_settings

from metering.gateway import client as ai_client
from tests.support.anthropic import START_BALANCE, FakeAnthropic
from tests.support.api import api_client
from tests.support.clock import NOW
from tests.support.database import database_clone, database_drop, template_database_ensure
from tests.support.factories import ApiKeyFactory, WalletFactory
from tests.support.tenants import client_for, standard_tenants_seed


@pytest.fixture(scope="session")
def django_db_setup(django_db_blocker):
    """One migrated template database for the run; each xdist worker works on its own copy."""
    base_name = settings.DATABASES["default"]["NAME"]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    # The process id keeps two concurrent test runs on one cluster from dropping each other's database.
    name = f"test_tollgate_{worker}_{os.getpid()}"
    with django_db_blocker.unblock():
        template = template_database_ensure(standard_tenants_seed)
        database_clone(template, name)
    yield
    with django_db_blocker.unblock():
        database_drop(name, fallback=base_name)


@pytest.fixture(autouse=True)
def public_schema_each_test(request):
    """Requests switch the connection's schema; every test starts and ends in the public schema."""
    yield
    if "django_db_setup" in request.fixturenames:
        connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def fresh_caches():
    """Tenants, API keys, entitlements and model prices are cached per process (config.lookup_cache): no test
    may see a row another test changed and rolled back (the rollback sends no signal to forget it)."""
    from config.lookup_cache import lookup_clear
    from config.redis_guard import redis_guard_reset

    lookup_clear()
    yield
    lookup_clear()
    redis_guard_reset()  # a test that made Redis fail must not leave the circuit open for the next one


@pytest.fixture
def tenant_alpha(db):
    from tenants.models import Tenant

    return Tenant.objects.get(slug="alpha")


@pytest.fixture
def tenant_beta(db):
    from tenants.models import Tenant

    return Tenant.objects.get(slug="beta")


@pytest.fixture
def public_client(db):
    return client_for(None)


@pytest.fixture
def alpha_client(tenant_alpha):
    return client_for(tenant_alpha)


@pytest.fixture
def beta_client(tenant_beta):
    return client_for(tenant_beta)


@pytest.fixture
def committed_db(django_db_setup, django_db_blocker):
    """Database access without the per-test transaction, for tests whose data another thread or process must
    see. Tenants the test created are purged afterwards; anything else it commits it must remove itself."""
    from tenants.models import Tenant
    from tests.support.tenants import tenant_purge

    with django_db_blocker.unblock():
        existing = set(Tenant.objects.values_list("pk", flat=True))
        yield
        connection.set_schema_to_public()
        for tenant in Tenant.objects.exclude(pk__in=existing):
            tenant_purge(tenant)


@pytest.fixture
def alpha_owner_client(tenant_alpha):
    from tests.support.tenants import logged_in_client

    return logged_in_client(tenant_alpha)


@pytest.fixture
def beta_owner_client(tenant_beta):
    from tests.support.tenants import logged_in_client

    return logged_in_client(tenant_beta)


@pytest.fixture
def frozen_now():
    """The clock stopped at tests.support.clock.NOW; the traveller's move_to(when) and shift(seconds) move it."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def upstream(monkeypatch):
    """Anthropic answered by recordings: the real SDK talks to a FakeAnthropic through an httpx2 MockTransport."""
    fake = FakeAnthropic()
    monkeypatch.setattr(ai_client, "http_client_build",
                        lambda: httpx2.Client(transport=httpx2.MockTransport(fake.handler)))
    ai_client.client_cache_clear()
    with override_settings(ANTHROPIC_API_KEY="sk-ant-test-key"):
        yield fake
    ai_client.client_cache_clear()


@pytest.fixture
def funded(tenant_alpha):
    """Alpha with START_BALANCE purchased AI tokens in its wallet."""
    WalletFactory(tenant=tenant_alpha, tokens=START_BALANCE, idempotency_key="bought")
    return tenant_alpha


@pytest.fixture
def ai(funded):
    """An API client on the funded tenant's host with a key scoped to the AI API."""
    return api_client(funded, ApiKeyFactory(tenant=funded, scopes=["ai"]).secret)
