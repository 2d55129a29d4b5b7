"""The coach chat's page routes (send a message, a message's action cards and their confirm/dismiss/undo, the board
re-read): tenant A's session never reads or writes tenant B's chat. Project and message ids are per schema, so
beta's ids on alpha's host name nothing of beta's, and alpha's session is not signed in on beta's host."""

import pytest
from django_tenants.utils import schema_context

from creators.models import CoachMessage, Decision, Project
from tests.support.creators import project_for
from tests.support.tenants import client_for, owner_of

pytestmark = pytest.mark.django_db

BETA_NICHE = "beta-only sourdough secrets"


@pytest.fixture
def beta_project(tenant_beta) -> Project:
    with schema_context(tenant_beta.schema_name):
        return project_for(owner_of(tenant_beta), niche=BETA_NICHE)


@pytest.fixture
def beta_welcome(tenant_beta, beta_project) -> CoachMessage:
    with schema_context(tenant_beta.schema_name):
        return CoachMessage.objects.get(project=beta_project)


def chat_routes(project_id: int, message_id: int) -> list[tuple[str, str]]:
    base = f"/coach/projects/{project_id}"
    return [("post", f"{base}/messages/"), ("get", f"{base}/board/"),
            ("get", f"{base}/messages/{message_id}/actions/"),
            ("post", f"{base}/messages/{message_id}/actions/0/confirm/"),
            ("post", f"{base}/messages/{message_id}/actions/0/dismiss/"),
            ("post", f"{base}/messages/{message_id}/actions/0/undo/")]


def beta_chat(tenant_beta) -> tuple:
    with schema_context(tenant_beta.schema_name):
        return (list(CoachMessage.objects.values_list("pk", "content", "detected_actions")),
                list(Decision.objects.values_list("pk", "category", "is_current")))


def test_betas_project_and_message_ids_on_alphas_host_name_nothing(alpha_owner_client, tenant_beta, beta_welcome):
    before = beta_chat(tenant_beta)

    for method, path in chat_routes(beta_welcome.project_id, beta_welcome.pk):
        response = getattr(alpha_owner_client, method)(path, {"content": "I'll launch on Discord at $29/month"}
                                                       if method == "post" else {})
        assert response.status_code == 404, path
        assert BETA_NICHE.encode() not in response.content

    assert beta_chat(tenant_beta) == before


def test_an_alpha_session_on_betas_host_is_sent_to_sign_in(alpha_owner_client, tenant_beta, beta_welcome):
    on_beta = client_for(tenant_beta)
    on_beta.cookies = alpha_owner_client.cookies
    before = beta_chat(tenant_beta)

    for method, path in chat_routes(beta_welcome.project_id, beta_welcome.pk):
        response = getattr(on_beta, method)(path, {"content": "I'll launch on Discord at $29/month"}
                                            if method == "post" else {})
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), path

    assert beta_chat(tenant_beta) == before
