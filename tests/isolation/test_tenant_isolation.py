"""Nothing of tenant B is visible or writable from tenant A: pages, sessions, logins, tasks, cache keys.

Every later page and endpoint adds itself to STAFF_PAGES (or a list like it) so this suite keeps covering it.
"""

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django_tenants.utils import schema_context, tenant_context

from accounts.models import User
from accounts.tasks import expired_sessions_clear
from tests.support.sessions import session_create, session_keys
from tests.support.tenants import STANDARD_PASSWORD, client_for

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["/", "/usage/", "/billing/", "/api-keys/", "/team/", "/coach/", "/settings/"]
BETA_MARKERS = [b"Beta Inc", b"owner@beta.test", b"beta.localhost"]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_a_session_of_tenant_a_gets_nothing_on_tenant_bs_host(alpha_owner_client, tenant_beta, path):
    alpha_cookie = alpha_owner_client.cookies
    on_beta = client_for(tenant_beta)
    on_beta.cookies = alpha_cookie

    response = on_beta.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_every_page_of_tenant_a_shows_only_tenant_as_data(alpha_owner_client, tenant_beta, path):
    response = alpha_owner_client.get(path)

    assert response.status_code == 200
    for marker in BETA_MARKERS:
        assert marker not in response.content


def test_a_session_row_lives_only_in_its_own_tenants_schema(alpha_owner_client):
    session_key = alpha_owner_client.cookies["sessionid"].value

    with schema_context("alpha"):
        assert Session.objects.filter(session_key=session_key).exists()
    with schema_context("beta"):
        assert not Session.objects.filter(session_key=session_key).exists()
    assert not Session.objects.filter(session_key=session_key).exists()


def test_an_owner_cannot_log_in_on_another_tenants_host(beta_client):
    response = beta_client.post("/accounts/login/", {"login": "owner@alpha.test", "password": STANDARD_PASSWORD})

    assert not response.wsgi_request.user.is_authenticated


def test_an_ops_account_does_not_exist_in_any_tenant(alpha_client):
    User.objects.create_superuser("ops@tollgate.test", "pw-operator-123")

    response = alpha_client.post("/accounts/login/", {"login": "ops@tollgate.test", "password": "pw-operator-123"})

    assert not response.wsgi_request.user.is_authenticated
    with schema_context("alpha"):
        assert not User.objects.filter(email="ops@tollgate.test").exists()


def test_user_ids_repeat_across_schemas_but_the_rows_are_separate(tenant_alpha, tenant_beta):
    with schema_context("alpha"):
        alpha_owner = User.objects.get()
    with schema_context("beta"):
        beta_owner = User.objects.get()

    assert alpha_owner.pk == beta_owner.pk
    assert alpha_owner.email != beta_owner.email


def test_a_task_enqueued_for_tenant_a_runs_in_as_schema_only(tenant_alpha, tenant_beta):
    session_create("alpha", expired=True, key="alpha-old")
    session_create("beta", expired=True, key="beta-old")

    with tenant_context(tenant_alpha):
        result = expired_sessions_clear.delay()

    assert result.get() == {"schema": "alpha", "deleted": 1}
    assert "alpha-old" not in session_keys("alpha")
    assert "beta-old" in session_keys("beta")


@pytest.mark.redis
def test_cache_keys_are_prefixed_with_the_tenants_schema(tenant_alpha, tenant_beta):
    with tenant_context(tenant_alpha):
        cache.set("user:1:failed_logins", "alpha-value")
        alpha_key = cache.make_key("user:1:failed_logins")
    with tenant_context(tenant_beta):
        beta_value = cache.get("user:1:failed_logins")
        beta_key = cache.make_key("user:1:failed_logins")

    assert beta_value is None
    assert alpha_key != beta_key
    assert alpha_key.startswith("alpha:") and beta_key.startswith("beta:")
