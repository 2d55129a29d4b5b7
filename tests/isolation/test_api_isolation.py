"""The API of tenant B is closed to tenant A's keys and sessions, and A's answers never contain B's data."""

import pytest
from django_tenants.utils import schema_context

from accounts.models import Role, User
from tenants.models import ApiKey
from tests.support.api import api_client, api_key_for
from tests.support.tenants import client_for

pytestmark = pytest.mark.django_db

ENDPOINTS = [("GET", "/api/v1/tenant"), ("GET", "/api/v1/api-keys"), ("POST", "/api/v1/api-keys"),
             ("POST", "/api/v1/api-keys/{beta_key_id}/revoke"), ("GET", "/api/v1/team/members")]


@pytest.fixture
def beta_key_id(tenant_beta):
    api_key_for(tenant_beta, name="beta secret key")
    return ApiKey.objects.get(tenant=tenant_beta).pk


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_a_key_of_tenant_a_is_refused_on_every_endpoint_of_tenant_b(tenant_alpha, tenant_beta, beta_key_id,
                                                                   method, path):
    client = api_client(tenant_beta, api_key_for(tenant_alpha))

    response = client.generic(method, path.format(beta_key_id=beta_key_id), '{"name": "x", "scopes": ["read"]}',
                              content_type="application/json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert ApiKey.objects.get(pk=beta_key_id).revoked_at is None
    assert ApiKey.objects.filter(tenant=tenant_beta).count() == 1


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_a_session_of_tenant_a_is_refused_on_every_endpoint_of_tenant_b(alpha_owner_client, tenant_beta,
                                                                       beta_key_id, method, path):
    on_beta = client_for(tenant_beta)
    on_beta.cookies = alpha_owner_client.cookies

    response = on_beta.generic(method, path.format(beta_key_id=beta_key_id), "{}", content_type="application/json")

    assert response.status_code in (401, 403)
    assert ApiKey.objects.get(pk=beta_key_id).revoked_at is None


def test_tenant_as_answers_never_contain_tenant_bs_data(tenant_alpha, tenant_beta, beta_key_id):
    with schema_context("beta"):
        User.objects.create_user("colleague@beta.test", "pw-member-12345", role=Role.MEMBER)
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))

    bodies = [client.get(path).content for path in ["/api/v1/tenant", "/api/v1/api-keys", "/api/v1/team/members"]]

    for body in bodies:
        for marker in [b"beta", b"Beta Inc", b"colleague@beta.test", b"beta secret key"]:
            assert marker not in body


# --- Idempotency-Key: a record answers only its own tenant and caller ------------------------------

def _create_with_idempotency_key(client, key: str = "shared-key"):
    return client.post("/api/v1/api-keys", {"name": "deploy", "scopes": ["read"]}, content_type="application/json",
                       HTTP_IDEMPOTENCY_KEY=key)


def test_an_idempotency_key_replayed_on_another_tenant_runs_there_and_leaks_nothing(tenant_alpha, tenant_beta):
    on_alpha = _create_with_idempotency_key(api_client(tenant_alpha, api_key_for(tenant_alpha)))

    on_beta = _create_with_idempotency_key(api_client(tenant_beta, api_key_for(tenant_beta)))

    assert on_alpha.status_code == on_beta.status_code == 201
    assert "Idempotent-Replayed" not in on_beta
    assert on_alpha.json()["key"].encode() not in on_beta.content
    assert ApiKey.objects.get(tenant=tenant_beta, name="deploy").pk == on_beta.json()["id"]


def test_an_idempotency_key_replayed_by_another_caller_runs_for_it_and_leaks_nothing(tenant_alpha,
                                                                                   alpha_owner_client):
    by_key = _create_with_idempotency_key(api_client(tenant_alpha, api_key_for(tenant_alpha)))

    by_other_key = _create_with_idempotency_key(api_client(tenant_alpha, api_key_for(tenant_alpha, name="other")))
    by_session = _create_with_idempotency_key(alpha_owner_client)

    first_secret = by_key.json()["key"].encode()
    for response in (by_other_key, by_session):
        assert response.status_code == 201 and "Idempotent-Replayed" not in response
        assert first_secret not in response.content
    assert ApiKey.objects.filter(tenant=tenant_alpha, name="deploy").count() == 3


def test_a_session_users_idempotency_key_is_not_replayed_to_another_user_of_the_tenant(tenant_alpha,
                                                                                       alpha_owner_client):
    with schema_context("alpha"):
        admin = User.objects.create_user("admin@alpha.test", "pw-admin-12345", role=Role.ADMIN)
    admin_client = client_for(tenant_alpha)
    with schema_context("alpha"):
        admin_client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    by_owner = _create_with_idempotency_key(alpha_owner_client)

    by_admin = _create_with_idempotency_key(admin_client)

    assert by_admin.status_code == 201 and "Idempotent-Replayed" not in by_admin
    assert by_owner.json()["key"].encode() not in by_admin.content
