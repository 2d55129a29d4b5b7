"""The coach's chat: tenant A's keys never read or write tenant B's conversation, and B's keys are refused on A's
host (project ids are per schema: beta's project id on alpha's host names alpha's project with that id, or
nothing). Nothing is stored, reserved or charged for a refused request."""

import json

import pytest
from django_tenants.utils import schema_context

from creators.models import CoachMessage
from metering.models import AiReservationRecord
from tenants.services import api_key_create
from tests.support.api import api_client
from tests.support.creators import project_for
from tests.support.tenants import owner_of

pytestmark = pytest.mark.django_db

BETA_SECRET = "beta-only sourdough secret"


def coach_key(tenant) -> str:
    return api_key_create(tenant=tenant, name="coach", scopes=["coach"], created_by=tenant.owner_email).secret


@pytest.fixture
def beta_chat(tenant_beta):
    with schema_context(tenant_beta.schema_name):
        project = project_for(owner_of(tenant_beta))
        CoachMessage.objects.create(project=project, user=owner_of(tenant_beta), role=CoachMessage.Role.USER,
                                    content=BETA_SECRET, created_at=project.created_at)
    return project


def beta_messages(tenant_beta) -> list[tuple]:
    with schema_context(tenant_beta.schema_name):
        return list(CoachMessage.objects.values_list("pk", "content", "status"))


def test_alphas_key_cannot_read_betas_conversation_by_its_project_id(tenant_alpha, beta_chat):
    alpha = api_client(tenant_alpha, coach_key(tenant_alpha))

    response = alpha.get(f"/api/v1/coach/projects/{beta_chat.pk}/messages")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "project_not_found"
    assert BETA_SECRET.encode() not in response.content


def test_alphas_key_cannot_post_into_betas_conversation(upstream, funded, tenant_beta, beta_chat):
    alpha = api_client(funded, coach_key(funded))
    before = beta_messages(tenant_beta)

    response = alpha.post(f"/api/v1/coach/projects/{beta_chat.pk}/messages", json.dumps({"content": "hello"}),
                          content_type="application/json")

    assert response.status_code == 404
    assert beta_messages(tenant_beta) == before
    with schema_context(funded.schema_name):
        assert not CoachMessage.objects.exists()
    assert upstream.requests == []
    assert not AiReservationRecord.objects.exists()


def test_betas_key_is_refused_on_alphas_chat(tenant_alpha, tenant_beta, beta_chat):
    on_alpha = api_client(tenant_alpha, coach_key(tenant_beta))

    responses = [on_alpha.get(f"/api/v1/coach/projects/{beta_chat.pk}/messages"),
                 on_alpha.post(f"/api/v1/coach/projects/{beta_chat.pk}/messages", json.dumps({"content": "hi"}),
                               content_type="application/json")]

    assert [(r.status_code, r.json()["error"]["code"]) for r in responses] == [(401, "invalid_api_key")] * 2
    assert BETA_SECRET in [content for _, content, _ in beta_messages(tenant_beta)]


def test_betas_key_on_its_own_host_reads_betas_conversation(tenant_beta, beta_chat):
    beta = api_client(tenant_beta, coach_key(tenant_beta))

    body = beta.get(f"/api/v1/coach/projects/{beta_chat.pk}/messages").json()

    assert body["data"][0]["content"] == BETA_SECRET
