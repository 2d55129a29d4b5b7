import json

import pytest
from rest_framework.exceptions import ParseError

from config.api.parsers import MAX_DEPTH, json_depth_check
from tests.support.api import api_client, api_key_for


def nested_list(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("path", ["/api/v1/events", "/api/v1/api-keys"])
@pytest.mark.django_db
def test_a_body_nested_a_thousand_deep_answers_400_not_500_with_an_idempotency_key(tenant_alpha, path):
    """orjson accepts 1,000 levels; the fingerprint of an Idempotency-Key (json.dumps) then recursed too deep."""
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))
    body = ('{"transaction_id": "t", "meter": "compute_seconds", "properties": {"seconds": 1, "deep": '
            + nested_list(1000) + "}}")

    response = client.post(path, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="deep-1")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert f"at most {MAX_DEPTH} levels" in error["message"]


@pytest.mark.django_db
def test_a_body_nested_exactly_as_deep_as_allowed_is_accepted(tenant_alpha):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))
    # The body object and its properties are two levels; the list fills the rest.
    body = {"transaction_id": "t", "meter": "compute_seconds",
            "properties": {"seconds": 1, "deep": json.loads(nested_list(MAX_DEPTH - 2))}}

    response = client.post("/api/v1/events", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="deep-2")

    assert response.status_code == 200
    assert response.json()["accepted"] == 1


@pytest.mark.parametrize("value", [1, "text", None, [], {}, [1, {"a": [2, 3]}], {"a": {"b": {}}},
                                   [[0] * 10_000], json.loads(nested_list(MAX_DEPTH))])
def test_values_up_to_the_depth_limit_pass(value):
    json_depth_check(value)


@pytest.mark.parametrize("value", [json.loads(nested_list(MAX_DEPTH + 1)),
                                   {"a": [1, 2, {"b": json.loads(nested_list(MAX_DEPTH - 1))}]}])
def test_values_deeper_than_the_limit_are_a_parse_error(value):
    with pytest.raises(ParseError):
        json_depth_check(value)
