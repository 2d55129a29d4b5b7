"""Coach chat tests: alpha's owner with a profile and an active premium-community project, a funded wallet, and an
API client acting as the owner (a `coach` key the owner created)."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import schema_context

from creators.models import CoachMessage, Project
from tenants.services import api_key_create
from tests.support.api import api_client
from tests.support.creators import project_for
from tests.support.tenants import owner_of


@pytest.fixture
def chat_project(funded) -> Project:
    with schema_context(funded.schema_name):
        return project_for(owner_of(funded))


@pytest.fixture
def chat(funded):
    secret = api_key_create(tenant=funded, name="coach", scopes=["coach"], created_by=funded.owner_email).secret
    return api_client(funded, secret)


def send_message(client, project_id: int, content: str):
    return client.post(f"/api/v1/coach/projects/{project_id}/messages", json.dumps({"content": content}),
                       content_type="application/json")


def messages_of(tenant, project_id: int) -> list[CoachMessage]:
    with schema_context(tenant.schema_name):
        return list(CoachMessage.objects.filter(project_id=project_id).order_by("id"))
