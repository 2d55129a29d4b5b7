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
