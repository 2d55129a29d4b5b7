"""The creator's answers to detected actions in the API: confirm, dismiss and undo by the action's index in a
message, with the stored status and the project's progress in the answer, and the one error shape for a wrong
state (409), an unknown action (404) and another member's project (404)."""

from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from accounts.models import Role
from creators.chat.actions import ActionKind, ActionSource, DetectedAction
from creators.chat.apply import actions_apply
from creators.models import CoachMessage, Decision, TaskCompletion
from tenants.services import api_key_create
from tests.support.api import api_client
from tests.support.clock import NOW
from tests.support.creators import project_for
from tests.support.staff import staff_user_create
from tests.support.tenants import owner_of

pytestmark = pytest.mark.django_db
PRICE = DetectedAction(kind=ActionKind.DECISION, source=ActionSource.PATTERN, confidence=Decimal("0.7"),
                       category="pricing", value="29.00 USD a month",
                       data={"amount": "29.00", "currency": "USD", "interval": "month"})
SPACE = DetectedAction(kind=ActionKind.TASK, source=ActionSource.PATTERN, confidence=Decimal("0.9"),
                       task_id="create-space")


def coach_key(tenant, created_by: str | None = None):
    return api_client(tenant, api_key_create(tenant=tenant, name="coach", scopes=["coach"],
                                             created_by=created_by or tenant.owner_email).secret)


@pytest.fixture
def exchange(tenant_alpha) -> tuple[int, int]:
    """Alpha's owner's project and a message whose pricing decision is to confirm (0) and task applied (1)."""
    with schema_context(tenant_alpha.schema_name):
        project = project_for(owner_of(tenant_alpha))
        message = CoachMessage.objects.create(project=project, user=project.user, role=CoachMessage.Role.USER,
                                              content="I'll charge 29 dollars a month. I've set up Discord.",
                                              created_at=NOW)
        actions_apply(project=project, message=message, actions=[PRICE, SPACE], user=project.user, now=NOW)
        return project.pk, message.pk


def answer(client, exchange, index: int, what: str):
    project_id, message_id = exchange
    return client.post(f"/api/v1/coach/projects/{project_id}/messages/{message_id}/actions/{index}/{what}")


def test_confirming_records_the_decision_and_answers_the_action_and_progress(tenant_alpha, exchange):
    response = answer(coach_key(tenant_alpha), exchange, 0, "confirm")

    assert response.status_code == 200
    body = response.json()
    assert (body["index"], body["action"]["status"], body["action"]["value"]) == (0, "confirmed", "29.00 USD a month")
    assert body["progress"]["decisions_made"] == 1
    with schema_context(tenant_alpha.schema_name):
        assert Decision.objects.get(is_current=True).pk == body["action"]["record_id"]


def test_dismissing_is_stored_on_the_message(tenant_alpha, exchange):
    response = answer(coach_key(tenant_alpha), exchange, 0, "dismiss")

    assert response.json()["action"]["status"] == "dismissed"
    with schema_context(tenant_alpha.schema_name):
        assert CoachMessage.objects.get(pk=exchange[1]).detected_actions[0]["status"] == "dismissed"
        assert not Decision.objects.exists()


def test_undoing_an_applied_task_unticks_it(tenant_alpha, exchange):
    response = answer(coach_key(tenant_alpha), exchange, 1, "undo")

    assert (response.status_code, response.json()["action"]["status"]) == (200, "undone")
    assert response.json()["progress"]["tasks_done"] == 0
    with schema_context(tenant_alpha.schema_name):
        assert not TaskCompletion.objects.filter(undone_at__isnull=True).exists()


def test_a_wrong_state_is_refused_with_409(tenant_alpha, exchange):
    client = coach_key(tenant_alpha)

    responses = [answer(client, exchange, 1, "confirm"), answer(client, exchange, 0, "undo")]

    assert [response.status_code for response in responses] == [409, 409]
    assert {response.json()["error"]["code"] for response in responses} == {"action_state_invalid"}


def test_an_index_past_the_actions_is_not_found(tenant_alpha, exchange):
    response = answer(coach_key(tenant_alpha), exchange, 2, "dismiss")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "action_not_found"


def test_another_members_project_is_not_found(tenant_alpha, exchange):
    member = staff_user_create(tenant_alpha, Role.MEMBER)

    response = answer(coach_key(tenant_alpha, created_by=member.email), exchange, 0, "confirm")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "project_not_found"
    with schema_context(tenant_alpha.schema_name):
        assert not Decision.objects.exists()
