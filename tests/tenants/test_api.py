import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context

from accounts.models import Role, User
from tenants.keys import api_key_hash
from tenants.models import ApiKey, Tenant
from tests.support.api import api_client, api_key_for
from tests.support.tenants import client_for

pytestmark = pytest.mark.django_db


def test_tenant_endpoint_answers_the_keys_own_tenant(tenant_alpha):
    response = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["read"])).get("/api/v1/tenant")

    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == "alpha" and body["name"] == "Alpha Co" and body["domain"] == "alpha.localhost"


def test_a_key_is_stored_as_a_hash_and_found_by_its_prefix(tenant_alpha):
    secret = api_key_for(tenant_alpha)

    stored = ApiKey.objects.get(tenant=tenant_alpha)
    assert secret.startswith("tg_live_") and len(secret) >= 8 + 43
    assert stored.key_hash == api_key_hash(secret)
    assert secret not in str(ApiKey.objects.filter(pk=stored.pk).values().get())
    assert secret.startswith(stored.prefix) and len(stored.prefix) == len("tg_live_") + 8


def test_a_key_of_tenant_a_on_tenant_bs_host_is_an_invalid_api_key(tenant_alpha, tenant_beta):
    response = api_client(tenant_beta, api_key_for(tenant_alpha)).get("/api/v1/tenant")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


@pytest.mark.parametrize("header", ["Bearer tg_live_" + "x" * 43, "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer"])
def test_an_unknown_or_malformed_key_is_an_invalid_api_key(tenant_alpha, header):
    response = client_for(tenant_alpha).get("/api/v1/tenant", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_key_is_an_invalid_api_key(tenant_alpha):
    secret = api_key_for(tenant_alpha)
    key = ApiKey.objects.get(tenant=tenant_alpha)
    api_client(tenant_alpha, secret).post(f"/api/v1/api-keys/{key.pk}/revoke", content_type="application/json")

    response = api_client(tenant_alpha, secret).get("/api/v1/tenant")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_a_key_without_the_needed_scope_is_refused_naming_the_scope(tenant_alpha):
    response = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["read"])).post(
        "/api/v1/api-keys", {"name": "x", "scopes": ["read"]}, content_type="application/json")

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "insufficient_scope"
    assert error["details"]["required_scope"] == "write"


def test_a_suspended_tenants_key_is_refused_with_tenant_suspended(tenant_alpha):
    secret = api_key_for(tenant_alpha)
    Tenant.objects.filter(pk=tenant_alpha.pk).update(status=Tenant.Status.SUSPENDED)

    response = api_client(tenant_alpha, secret).get("/api/v1/tenant")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "tenant_suspended"


def test_no_credentials_is_unauthenticated(tenant_alpha):
    response = client_for(tenant_alpha).get("/api/v1/tenant")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_last_used_is_recorded_at_most_once_a_minute(tenant_alpha):
    secret = api_key_for(tenant_alpha)
    client = api_client(tenant_alpha, secret)
    with time_machine.travel("2026-05-01 10:00:00+00:00", tick=False):
        client.get("/api/v1/tenant")
    first = ApiKey.objects.get(tenant=tenant_alpha).last_used_at
    with time_machine.travel("2026-05-01 10:00:30+00:00", tick=False):
        client.get("/api/v1/tenant")
    assert ApiKey.objects.get(tenant=tenant_alpha).last_used_at == first
    from django.core.cache import cache

    with schema_context("alpha"):
        cache.delete(f"api-key-used:{ApiKey.objects.get(tenant=tenant_alpha).pk}")
    with time_machine.travel("2026-05-01 10:01:05+00:00", tick=False):
        client.get("/api/v1/tenant")
    assert ApiKey.objects.get(tenant=tenant_alpha).last_used_at > first


def test_create_answers_the_full_key_once_and_lists_never_show_it(tenant_alpha):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha, name="admin key"))

    created = client.post("/api/v1/api-keys", {"name": "deploy", "scopes": ["read", "usage:write"]},
                          content_type="application/json")
    listed = client.get("/api/v1/api-keys")

    assert created.status_code == 201
    body = created.json()
    assert body["key"].startswith(body["prefix"]) and body["scopes"] == ["read", "usage:write"]
    assert body["created_by"].startswith("api-key:")
    assert body["key"] not in listed.content.decode()
    assert [item["name"] for item in listed.json()["data"]] == ["deploy", "admin key"]


def test_a_key_cannot_create_a_key_with_scopes_it_lacks(tenant_alpha):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["read", "write"]))

    response = client.post("/api/v1/api-keys", {"name": "x", "scopes": ["ai"]}, content_type="application/json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"


# --- Idempotency-Key replays of a create: they carry a secret -------------------------------------

def _create_with_key(client, scopes: list[str], key: str = "deploy-1"):
    return client.post("/api/v1/api-keys", {"name": "deploy", "scopes": scopes}, content_type="application/json",
                       HTTP_IDEMPOTENCY_KEY=key)


def test_idempotency_replay_by_another_key_does_not_return_the_secret(tenant_alpha):
    first = _create_with_key(api_client(tenant_alpha, api_key_for(tenant_alpha, name="ci")), ["read"])
    other = api_client(tenant_alpha, api_key_for(tenant_alpha, name="intruder"))

    replayed = _create_with_key(other, ["read"])

    assert first.status_code == 201
    assert first.json()["key"].encode() not in replayed.content
    # The other key's request is its own: it runs (and creates its own key) instead of being replayed.
    assert replayed.status_code == 201 and "Idempotent-Replayed" not in replayed
    assert replayed.json()["id"] != first.json()["id"]


def test_idempotency_replay_runs_scope_check_first(tenant_alpha):
    first = _create_with_key(api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["read", "write"])),
                             ["read", "write"])
    write_only = api_client(tenant_alpha, api_key_for(tenant_alpha, name="write only", scopes=["write"]))

    replayed = _create_with_key(write_only, ["read", "write"])

    assert first.status_code == 201
    assert replayed.status_code == 403
    assert replayed.json()["error"]["code"] == "insufficient_scope"
    assert first.json()["key"].encode() not in replayed.content
    assert ApiKey.objects.filter(tenant=tenant_alpha, name="deploy").count() == 1


def test_idempotency_replay_by_revoked_key_is_refused(tenant_alpha):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha, name="ci"))
    first = _create_with_key(client, ["read"])
    ci = ApiKey.objects.get(tenant=tenant_alpha, name="ci")
    revoked = api_client(tenant_alpha, api_key_for(tenant_alpha, name="admin")).post(
        f"/api/v1/api-keys/{ci.pk}/revoke", content_type="application/json")

    replayed = _create_with_key(client, ["read"])

    assert first.status_code == 201 and revoked.status_code == 200
    assert replayed.status_code == 401
    assert replayed.json()["error"]["code"] == "invalid_api_key"
    assert first.json()["key"].encode() not in replayed.content


def test_stored_idempotent_response_never_contains_the_secret(tenant_alpha):
    created = _create_with_key(api_client(tenant_alpha, api_key_for(tenant_alpha)), ["read"])
    secret = created.json()["key"]

    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(record)::text FROM public.tenants_idempotencyrecord record")
        rows = [row for (row,) in cursor.fetchall()]

    assert created.status_code == 201
    assert len(rows) == 1
    assert secret not in rows[0] and secret[len("tg_live_"):] not in rows[0]
    assert created.json()["prefix"] in rows[0]


def test_a_retry_by_the_same_key_learns_which_key_was_created_but_not_its_secret(tenant_alpha):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))
    first = _create_with_key(client, ["read"])

    retry = _create_with_key(client, ["read"])

    assert retry.status_code == 409
    error = retry.json()["error"]
    assert error["code"] == "secret_already_shown"
    assert error["details"]["created"] == {name: value for name, value in first.json().items() if name != "key"}


def test_revoking_another_tenants_key_answers_not_found(tenant_alpha, tenant_beta):
    api_key_for(tenant_beta, name="beta key")
    beta_key = ApiKey.objects.get(tenant=tenant_beta)

    response = api_client(tenant_alpha, api_key_for(tenant_alpha)).post(f"/api/v1/api-keys/{beta_key.pk}/revoke",
                                                                     content_type="application/json")

    assert response.status_code == 404
    assert ApiKey.objects.get(pk=beta_key.pk).revoked_at is None


def test_lists_paginate_with_a_cursor(tenant_alpha):
    secret = api_key_for(tenant_alpha, name="key 0")
    for n in range(1, 5):
        api_key_for(tenant_alpha, name=f"key {n}")
    client = api_client(tenant_alpha, secret)

    first = client.get("/api/v1/api-keys", {"limit": 2}).json()
    second = client.get("/api/v1/api-keys", {"limit": 2, "cursor": first["next_cursor"]}).json()
    third = client.get("/api/v1/api-keys", {"limit": 2, "cursor": second["next_cursor"]}).json()

    names = [item["name"] for page in (first, second, third) for item in page["data"]]
    assert names == ["key 4", "key 3", "key 2", "key 1", "key 0"]
    assert first["has_more"] and second["has_more"] and not third["has_more"]
    assert third["next_cursor"] is None


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 101}, {"limit": "ten"}, {"cursor": "garbage"}])
def test_a_bad_limit_or_cursor_is_an_invalid_request(tenant_alpha, query):
    response = api_client(tenant_alpha, api_key_for(tenant_alpha)).get("/api/v1/api-keys", query)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_session_users_reach_the_api_with_their_roles(tenant_alpha, alpha_owner_client):
    with schema_context("alpha"):
        member = User.objects.create_user("member@alpha.test", "pw-member-12345", role=Role.MEMBER)
    member_client = client_for(tenant_alpha)
    with schema_context("alpha"):
        member_client.force_login(member, backend="django.contrib.auth.backends.ModelBackend")

    assert alpha_owner_client.get("/api/v1/api-keys").status_code == 200
    assert member_client.get("/api/v1/tenant").status_code == 200
    refused = member_client.get("/api/v1/api-keys")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"


def test_session_posts_need_the_csrf_token(tenant_alpha):
    from tests.support.tenants import owner_of

    client = client_for(tenant_alpha)
    client.handler.enforce_csrf_checks = True
    with schema_context("alpha"):
        client.force_login(owner_of(tenant_alpha), backend="django.contrib.auth.backends.ModelBackend")

    response = client.post("/api/v1/api-keys", {"name": "x", "scopes": ["read"]}, content_type="application/json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]


def test_api_key_create_command_prints_a_working_key(tenant_alpha, capsys):
    call_command("api_key_create", tenant="alpha", name="ci", scopes="read,write")

    secret = capsys.readouterr().out.strip()
    connection.set_schema_to_public()
    key = ApiKey.objects.get(tenant=tenant_alpha, name="ci")
    assert key.key_hash == api_key_hash(secret) and key.scopes == ["read", "write"]
    assert api_client(tenant_alpha, secret).get("/api/v1/tenant").status_code == 200
