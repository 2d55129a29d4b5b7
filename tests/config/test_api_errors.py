"""Every non-success response under /api/ is the JSON error shape with the right status, on every endpoint."""

import json

import pytest
from django.conf import settings
from django_ratelimit.exceptions import Ratelimited
from rest_framework.exceptions import Throttled

from config.api.errors import api_error_from, error_answer, stream_error_event
from config.errors import DomainError
from tenants.models import ApiKey
from tests.support.api import api_client, api_key_for

pytestmark = pytest.mark.django_db

GET_ENDPOINTS = ["/api/v1/tenant", "/api/v1/api-keys", "/api/v1/team/members"]
POST_ENDPOINTS = ["/api/v1/api-keys", "/api/v1/api-keys/{key_id}/revoke"]
ALL_ENDPOINTS = [("GET", path) for path in GET_ENDPOINTS] + [("POST", path) for path in POST_ENDPOINTS]


@pytest.fixture
def key_client(tenant_alpha):
    return api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["read", "write"]))


@pytest.fixture
def key_id(tenant_alpha, key_client):
    return ApiKey.objects.filter(tenant=tenant_alpha).values_list("pk", flat=True).get()


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


@pytest.mark.parametrize(("method", "path"), ALL_ENDPOINTS)
def test_every_endpoint_answers_401_without_credentials(tenant_alpha, method, path):
    response = api_client(tenant_alpha).generic(method, path.format(key_id=1))

    assert_error(response, 401, "unauthenticated")


@pytest.mark.parametrize(("method", "path"), ALL_ENDPOINTS)
def test_every_endpoint_answers_403_for_a_key_without_the_scope(tenant_alpha, method, path):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["ai"]))

    assert_error(client.generic(method, path.format(key_id=1)), 403, "insufficient_scope")


@pytest.mark.parametrize(("method", "path"), ALL_ENDPOINTS)
def test_every_endpoint_answers_405_for_a_method_it_does_not_allow(key_client, key_id, method, path):
    wrong = "DELETE"

    error = assert_error(key_client.generic(wrong, path.format(key_id=key_id)), 405, "method_not_allowed")
    assert error["message"]


@pytest.mark.parametrize(("method", "path"), ALL_ENDPOINTS)
def test_every_endpoint_answers_404_json_for_a_trailing_slash_mismatch(key_client, key_id, method, path):
    response = key_client.generic(method, path.format(key_id=key_id) + "/")

    assert_error(response, 404, "not_found")


def test_an_unknown_api_path_answers_404_json(key_client):
    assert_error(key_client.get("/api/v1/nothing-here"), 404, "not_found")


@pytest.mark.parametrize("path", POST_ENDPOINTS)
def test_every_post_endpoint_answers_400_for_malformed_json(key_client, key_id, path):
    response = key_client.post(path.format(key_id=key_id), '{"name": "x", "scopes": [', content_type="application/json")

    assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize("path", POST_ENDPOINTS)
def test_every_post_endpoint_answers_415_for_text_plain(key_client, key_id, path):
    response = key_client.post(path.format(key_id=key_id), "name=x", content_type="text/plain")

    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("path", POST_ENDPOINTS)
def test_every_post_endpoint_answers_413_above_the_body_limit(key_client, key_id, path):
    body = '{"name": "' + "x" * settings.API_MAX_BODY_BYTES + '", "scopes": ["read"]}'

    error = assert_error(key_client.post(path.format(key_id=key_id), body, content_type="application/json"),
                         413, "payload_too_large")
    assert error["details"]["limit_bytes"] == settings.API_MAX_BODY_BYTES


def test_wrong_types_answer_400_with_per_field_details(key_client):
    response = key_client.post("/api/v1/api-keys", {"name": ["not", "a", "string"], "scopes": "read"},
                               content_type="application/json")

    error = assert_error(response, 400, "invalid_request")
    assert set(error["details"]["fields"]) == {"name", "scopes"}


def test_unknown_fields_are_rejected_not_ignored(key_client):
    response = key_client.post("/api/v1/api-keys", {"name": "x", "scopes": ["read"], "scope": "admin"},
                               content_type="application/json")

    error = assert_error(response, 400, "invalid_request")
    assert error["details"]["fields"] == {"scope": ["Unknown field."]}


def test_a_body_that_is_not_an_object_answers_400(key_client):
    response = key_client.post("/api/v1/api-keys", "[1, 2, 3]", content_type="application/json")

    assert_error(response, 400, "invalid_request")


def test_an_unexpected_exception_answers_500_json_with_the_request_id(key_client, monkeypatch):
    from tenants import api

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(api, "tenant_primary_domain", broken)
    key_client.raise_request_exception = False

    response = key_client.get("/api/v1/tenant", HTTP_X_REQUEST_ID="trace-123")

    error = assert_error(response, 500, "internal_error")
    assert error["details"]["request_id"] == "trace-123"
    assert "boom" not in response.content.decode()


def test_every_api_response_carries_a_request_id(key_client):
    fresh = key_client.get("/api/v1/tenant")
    echoed = key_client.get("/api/v1/tenant", HTTP_X_REQUEST_ID="client-id-42")

    assert fresh["X-Request-Id"].startswith("req_")
    assert echoed["X-Request-Id"] == "client-id-42"


def test_an_unsafe_client_request_id_is_replaced(key_client):
    response = key_client.get("/api/v1/tenant", HTTP_X_REQUEST_ID="<script>")

    assert response["X-Request-Id"].startswith("req_")


def test_rate_limit_refusals_map_to_429_rate_limited_with_retry_after():
    for exc in (Ratelimited(), Throttled(wait=7)):
        error = api_error_from(exc)
        assert (error.status_code, error.code) == (429, "rate_limited")
        assert "Retry-After" in error.headers


class SeatsExhausted(DomainError):
    code = "seats_exhausted"
    status = 409


def test_a_domain_error_answers_its_status_code_message_field_and_details():
    answer = error_answer(SeatsExhausted("No seat is left.", field="email", details={"seats": 3}))

    assert answer == (409, {"error": {"code": "seats_exhausted", "message": "No seat is left.",
                                      "details": {"field": "email", "seats": 3}}}, {})


def test_a_domain_errors_retry_after_becomes_the_retry_after_header():
    status, body, headers = error_answer(SeatsExhausted("Wait.", retry_after_s=30))

    assert headers == {"Retry-After": "30"}
    assert body["error"]["details"] == {}


def test_an_unexpected_exception_has_no_answer_and_stays_a_500():
    assert error_answer(RuntimeError("boom")) is None


def test_a_stream_error_event_carries_the_code_and_message_the_api_answers_with():
    event = stream_error_event(SeatsExhausted("No seat is left.", retry_after_s=30))

    assert event == {"type": "error", "error": {"code": "seats_exhausted", "message": "No seat is left."}}


def test_the_openapi_schema_and_docs_are_served_on_tenant_hosts(tenant_alpha):
    client = api_client(tenant_alpha)

    schema = client.get("/api/schema/", {"format": "json"})
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/tenant", "/api/v1/api-keys", "/api/v1/api-keys/{api_key_id}/revoke",
            "/api/v1/team/members"} <= set(paths)
    assert "apiKey" in schema.json()["components"]["securitySchemes"]
    assert "Error" in schema.json()["components"]["schemas"]
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
    assert b"cdn" not in docs.content.lower()


def test_json_nested_too_deeply_is_an_invalid_request_not_a_crash(key_client):
    response = key_client.post("/api/v1/api-keys", "[" * 5000 + "]" * 5000, content_type="application/json")

    assert_error(response, 400, "invalid_request")


def test_a_number_where_a_string_belongs_is_refused(key_client):
    response = key_client.post("/api/v1/api-keys", {"name": 0, "scopes": ["read"]}, content_type="application/json")

    error = assert_error(response, 400, "invalid_request")
    assert "name" in error["details"]["fields"]


@pytest.mark.parametrize("cursor", ["%00", "AAAA", "bz0xMA==x", "cD0x&q=2"])
def test_a_cursor_we_did_not_make_is_an_invalid_request(key_client, cursor):
    assert_error(key_client.get(f"/api/v1/api-keys?cursor={cursor}"), 400, "invalid_request")


def test_api_requests_still_answer_json_when_the_database_is_down(tenant_alpha, monkeypatch):
    from django.db import OperationalError

    from tenants.middleware import TenantRoutingMiddleware

    def database_down(self, domain_model, hostname):
        raise OperationalError("connection refused")

    monkeypatch.setattr(TenantRoutingMiddleware, "get_tenant", database_down)
    client = api_client(tenant_alpha)
    client.raise_request_exception = False

    assert_error(client.get("/api/v1/tenant"), 500, "internal_error")


def test_the_schema_documents_pagination_idempotency_and_closed_request_bodies(tenant_alpha):
    schema = api_client(tenant_alpha).get("/api/schema/", {"format": "json"}).json()

    listing = schema["paths"]["/api/v1/api-keys"]["get"]
    creating = schema["paths"]["/api/v1/api-keys"]["post"]
    assert {"cursor", "limit"} <= {parameter["name"] for parameter in listing["parameters"]}
    assert "Idempotency-Key" in {parameter["name"] for parameter in creating["parameters"]}
    assert schema["components"]["schemas"]["ApiKeyCreateRequest"]["additionalProperties"] is False


@pytest.mark.parametrize("body", ['{"name": "\\ud800", "scopes": ["read"]}', b'{"name": "\xff", "scopes": ["read"]}'])
def test_unencodable_text_is_an_invalid_request_not_a_crash(key_client, body):
    response = key_client.post("/api/v1/api-keys", body, content_type="application/json")

    assert_error(response, 400, "invalid_request")


def test_an_error_answer_rewritten_to_the_json_shape_keeps_rate_limit_headers_and_pending_work():
    from django.http import HttpResponseNotFound
    from django.test import RequestFactory

    from config.api.middleware import ApiErrorMiddleware

    closed = []
    inner = HttpResponseNotFound("<h1>Not Found</h1>")
    inner["X-RateLimit-Remaining"] = "41"
    inner._resource_closers.append(lambda: closed.append("tracked"))

    response = ApiErrorMiddleware(lambda request: inner)(RequestFactory().get("/api/v1/nowhere"))

    assert response.status_code == 404 and json.loads(response.content)["error"]["code"] == "not_found"
    assert response["X-RateLimit-Remaining"] == "41"
    response.close()
    assert closed == ["tracked"]
