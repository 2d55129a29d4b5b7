"""The OpenAPI schema is as strict as the API: what it declares valid for Idempotency-Key and cursor, the API
accepts; what the API refuses, it declares invalid."""

import re

import pytest

from config.api.idempotency import KEY_PATTERN
from config.api.pagination import CURSOR_MAX_LENGTH, CURSOR_PATTERN
from tests.support.api import api_client, api_key_for

pytestmark = pytest.mark.django_db

IDEMPOTENT_OPERATIONS = [("/api/v1/api-keys", "post"), ("/api/v1/events", "post"), ("/api/v1/wallet/purchases", "post")]


@pytest.fixture
def schema(tenant_alpha) -> dict:
    return api_client(tenant_alpha).get("/api/schema/", {"format": "json"}).json()


def parameter(schema: dict, path: str, method: str, name: str) -> dict:
    return next(p for p in schema["paths"][path][method]["parameters"] if p["name"] == name)


def schema_allows(declared: dict, value: str) -> bool:
    return (declared["minLength"] <= len(value) <= declared["maxLength"]
            and re.search(declared["pattern"], value) is not None)


@pytest.mark.parametrize(("path", "method"), IDEMPOTENT_OPERATIONS)
def test_the_schema_declares_the_idempotency_key_constraints(schema, path, method):
    declared = parameter(schema, path, method, "Idempotency-Key")

    assert declared["in"] == "header"
    assert declared["schema"] == {"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN}


def test_the_schema_declares_the_cursor_constraints(schema):
    declared = parameter(schema, "/api/v1/api-keys", "get", "cursor")["schema"]

    assert declared == {"type": "string", "minLength": 4, "maxLength": CURSOR_MAX_LENGTH, "pattern": CURSOR_PATTERN}


@pytest.mark.parametrize("key", ["a", "z" * 255, "~!" + " " * 252 + "x", "7d1c-create-deploy-key",
                                 "", "z" * 256, " a", "a ", "tab\there", "caf\u00e9"])
def test_an_idempotency_key_is_accepted_exactly_when_the_schema_allows_it(schema, tenant_alpha, key):
    declared = parameter(schema, "/api/v1/events", "post", "Idempotency-Key")["schema"]
    client = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["usage:write"]))
    body = {"transaction_id": "t", "meter": "compute_seconds", "properties": {"seconds": 1}}

    response = client.post("/api/v1/events", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == (200 if schema_allows(declared, key) else 400)


def test_the_cursors_the_api_makes_fit_the_schema_and_are_accepted(schema, tenant_alpha):
    declared = parameter(schema, "/api/v1/api-keys", "get", "cursor")["schema"]
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))
    for n in range(3):
        api_key_for(tenant_alpha, name=f"key {n}")

    cursor = client.get("/api/v1/api-keys", {"limit": 1}).json()["next_cursor"]
    response = client.get("/api/v1/api-keys", {"limit": 1, "cursor": cursor})

    assert schema_allows(declared, cursor)
    assert response.status_code == 200 and response.json()["data"]


@pytest.mark.parametrize("cursor", ["", "abc", "A" * (CURSOR_MAX_LENGTH + 4), "b2=x", "not base64!"])
def test_a_cursor_outside_the_schema_is_refused(schema, tenant_alpha, cursor):
    declared = parameter(schema, "/api/v1/api-keys", "get", "cursor")["schema"]

    response = api_client(tenant_alpha, api_key_for(tenant_alpha)).get("/api/v1/api-keys", {"cursor": cursor})

    assert not schema_allows(declared, cursor)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_request"
