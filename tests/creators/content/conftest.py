"""Content generation tests: a funded alpha with an API key for generating, reading and editing, and helpers to
read the saved documents in a tenant's schema."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections
from django_tenants.utils import schema_context

from creators.models import ContentDocument
from tests.support.api import api_client, api_key_for

MARKETING = {"template": "marketing-copy",
             "inputs": {"topic": "A paid community for home bakers", "content_type": "email", "tone": "friendly",
                        "audience": "Weekend bakers"}}


@pytest.fixture
def content_api(funded):
    """An API client on funded alpha's host with a key that may generate (ai), read and edit (write)."""
    return api_client(funded, api_key_for(funded, scopes=["ai", "read", "write"]))


def post_json(client, path: str, body) -> object:
    return client.post(path, json.dumps(body), content_type="application/json")


def patch_json(client, path: str, body) -> object:
    return client.patch(path, json.dumps(body), content_type="application/json")


def documents_of(tenant) -> list[ContentDocument]:
    with schema_context(tenant.schema_name):
        return list(ContentDocument.objects.order_by("id"))


def sse_events(response) -> list[tuple[str, dict]]:
    text = b"".join(response.streaming_content).decode()
    events = []
    for frame in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.split("\n"))
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def server_closes(response) -> None:
    """What the WSGI server does when the client goes away: close the response (as tests/metering/gateway does it:
    without the request_finished receiver that would close the test's database connection)."""
    request_finished.disconnect(close_old_connections)
    try:
        with mock.patch("django.test.client.close_old_connections", lambda **kwargs: None):
            response.close()
    finally:
        request_finished.connect(close_old_connections)
