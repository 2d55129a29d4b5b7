"""The coach's detected actions: another tenant cannot confirm, dismiss or undo them, by key or session, on its
own host (the ids name its own schema's rows, or nothing) or on the owner's host (its key and cookies are not
valid there)."""

from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from creators.chat.actions import ActionKind, ActionSource, DetectedAction
from creators.chat.apply import actions_apply
from creators.models import CoachMessage, Decision, TaskCompletion
from tenants.services import api_key_create
from tests.support.api import api_client
from tests.support.clock import NOW
from tests.support.creators import project_for
from tests.support.tenants import client_for, owner_of

pytestmark = pytest.mark.django_db
ACTIONS = [
    DetectedAction(kind=ActionKind.DECISION, source=ActionSource.PATTERN, confidence=Decimal("0.7"),
                   category="platform", value="Discord", data={"option": "discord"}),
    DetectedAction(kind=ActionKind.TASK, source=ActionSource.PATTERN, confidence=Decimal("0.9"),
                   task_id="create-space"),
]


@pytest.fixture
def beta_exchange(tenant_beta) -> str:
    """Beta's owner's message with a decision to confirm (0) and a task applied (1); the actions' URL prefix."""
    with schema_context(tenant_beta.schema_name):
        project = project_for(owner_of(tenant_beta))
        message = CoachMessage.objects.create(project=project, user=project.user, role=CoachMessage.Role.USER,
                                              content="I've set up Discord.", created_at=NOW)
        actions_apply(project=project, message=message, actions=ACTIONS, user=project.user, now=NOW)
        return f"/api/v1/coach/projects/{project.pk}/messages/{message.pk}/actions"


def beta_state(tenant_beta) -> tuple:
    with schema_context(tenant_beta.schema_name):
        return (list(CoachMessage.objects.values_list("detected_actions", flat=True)),
                list(Decision.objects.values_list("pk", "is_current")),
                list(TaskCompletion.objects.values_list("pk", "undone_at")))


def key_of(tenant) -> str:
    return api_key_create(tenant=tenant, name="coach", scopes=["coach"], created_by=tenant.owner_email).secret


def answers(client, prefix: str) -> list[int]:
    return [client.post(f"{prefix}/0/confirm").status_code, client.post(f"{prefix}/0/dismiss").status_code,
            client.post(f"{prefix}/1/undo").status_code]


def test_alphas_key_cannot_answer_betas_actions_by_their_ids(tenant_alpha, tenant_beta, beta_exchange):
    before = beta_state(tenant_beta)

    assert answers(api_client(tenant_alpha, key_of(tenant_alpha)), beta_exchange) == [404, 404, 404]
    assert beta_state(tenant_beta) == before


def test_alphas_key_on_betas_host_is_refused(tenant_alpha, tenant_beta, beta_exchange):
    before = beta_state(tenant_beta)

    assert answers(api_client(tenant_beta, key_of(tenant_alpha)), beta_exchange) == [401, 401, 401]
    assert beta_state(tenant_beta) == before


def test_an_alpha_session_on_betas_host_cannot_answer_betas_actions(alpha_owner_client, tenant_beta, beta_exchange):
    on_beta = client_for(tenant_beta)
    on_beta.cookies = alpha_owner_client.cookies
    before = beta_state(tenant_beta)

    assert all(status in (401, 403) for status in answers(on_beta, beta_exchange))
    assert beta_state(tenant_beta) == before


def test_betas_own_key_can_undo_its_action(tenant_beta, beta_exchange):
    response = api_client(tenant_beta, key_of(tenant_beta)).post(f"{beta_exchange}/1/undo")

    assert (response.status_code, response.json()["action"]["status"]) == (200, "undone")
