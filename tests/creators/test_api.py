"""The coach's API: the profile, playbooks and projects of the person the request acts as (a signed-in staff
member, or the creator of the API key), every refusal in the one error shape."""

import json

import pytest
from django_tenants.utils import schema_context

from accounts.models import Role
from creators.models import CreatorProfile, Decision, Project, TaskCompletion
from tenants.services import api_key_create
from tests.support.api import api_client
from tests.support.creators import project_for
from tests.support.staff import staff_user_create
from tests.support.tenants import owner_of

pytestmark = pytest.mark.django_db

PROFILE = {"primary_platform": "youtube", "follower_count": 50000, "engagement_rate": "4.00",
           "niche": "home baking for beginners", "monthly_revenue_goal": {"amount": "3000.00", "currency": "USD"},
           "hours_per_week": 10}


def coach_client(tenant, *, created_by: str | None = None, scopes=("coach",)):
    secret = api_key_create(tenant=tenant, name="coach", scopes=list(scopes),
                            created_by=created_by or tenant.owner_email).secret
    return api_client(tenant, secret)


def send(client, method: str, path: str, body=None, **headers):
    return getattr(client, method)(path, json.dumps(body) if body is not None else None,
                                   content_type="application/json", **headers)


@pytest.fixture
def coach(tenant_alpha):
    return coach_client(tenant_alpha)


@pytest.fixture
def started(tenant_alpha, coach) -> dict:
    assert send(coach, "put", "/api/v1/coach/profile", PROFILE).status_code == 200
    response = send(coach, "post", "/api/v1/coach/projects", {"playbook": "premium-community"})
    assert response.status_code == 201
    return response.json()["project"]


def test_a_key_sets_up_its_creators_profile(tenant_alpha, coach):
    response = send(coach, "put", "/api/v1/coach/profile", {**PROFILE, "audience_top_countries": [
        {"country": "US", "percent": 55}]})

    assert response.status_code == 200
    assert response.json()["monthly_revenue_goal"] == {"amount": "3000.00", "currency": "USD"}
    with schema_context(tenant_alpha.schema_name):
        profile = CreatorProfile.objects.get()
        assert profile.user == owner_of(tenant_alpha)
        assert profile.audience_top_countries == [{"country": "US", "percent": 55}]


def test_the_profile_reads_back_as_it_was_saved(coach):
    send(coach, "put", "/api/v1/coach/profile", PROFILE)

    body = coach.get("/api/v1/coach/profile").json()

    assert (body["follower_count"], body["engagement_rate"], body["hours_per_week"]) == (50000, "4.00", 10)


def test_a_profile_not_set_up_is_not_found(coach):
    response = coach.get("/api/v1/coach/profile")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "profile_not_found"


@pytest.mark.parametrize(("field", "value"), [("engagement_rate", "100.5"), ("follower_count", -1),
                                              ("hours_per_week", 169),
                                              ("monthly_revenue_goal", {"amount": "-1", "currency": "USD"})])
def test_a_profile_out_of_range_is_refused_with_the_field(coach, field, value):
    response = send(coach, "put", "/api/v1/coach/profile", {**PROFILE, field: value})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert field in response.json()["error"]["details"]["fields"]


def test_a_key_without_the_coach_scope_is_refused(tenant_alpha):
    response = coach_client(tenant_alpha, scopes=("read", "write")).get("/api/v1/coach/profile")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"


def test_a_key_nobody_on_the_team_created_has_nobody_to_coach(tenant_alpha):
    response = coach_client(tenant_alpha, created_by="manage.py").get("/api/v1/coach/profile")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "coach_user_unknown"


def test_a_key_whose_creator_left_the_team_is_refused(tenant_alpha):
    member = staff_user_create(tenant_alpha, Role.MEMBER)
    client = coach_client(tenant_alpha, created_by=member.email)
    with schema_context(tenant_alpha.schema_name):
        type(member).objects.filter(pk=member.pk).update(is_active=False)

    response = client.get("/api/v1/coach/profile")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "coach_user_unknown"


def test_a_signed_in_member_uses_their_own_coach(alpha_owner_client, tenant_alpha):
    response = send(alpha_owner_client, "put", "/api/v1/coach/profile", PROFILE)

    assert response.status_code == 200


def test_the_playbooks_are_listed_with_their_plans(coach):
    body = coach.get("/api/v1/coach/playbooks").json()

    premium = next(playbook for playbook in body if playbook["key"] == "premium-community")
    assert sum(len(phase["tasks"]) for phase in premium["phases"]) == 22
    assert premium["phases"][0]["tasks"][0]["estimated_cost"] == {"amount": "0", "currency": "USD"}


def test_starting_a_project_answers_it_with_its_progress(started):
    assert started["playbook"] == "premium-community"
    assert started["status"] == "active"
    assert started["plan"]["recommendations"]["pricing"]["core_price"]["amount"] == "79.00"


def test_starting_without_a_profile_is_a_conflict(coach):
    response = send(coach, "post", "/api/v1/coach/projects", {"playbook": "premium-community"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "profile_missing"


def test_a_second_active_project_is_a_clear_conflict(tenant_alpha, coach, started):
    response = send(coach, "post", "/api/v1/coach/projects", {"playbook": "startup-kit"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "project_active_exists"
    with schema_context(tenant_alpha.schema_name):
        assert Project.objects.count() == 1


def test_an_unknown_playbook_is_refused(coach, started):
    response = send(coach, "post", "/api/v1/coach/projects", {"playbook": "moon-base"})

    assert response.status_code == 400
    assert "playbook" in response.json()["error"]["details"]["fields"]


def test_the_active_project_answers_everything_the_workspace_needs(coach, started):
    response = coach.get("/api/v1/coach/projects/active")

    assert response.status_code == 200
    body = response.json()
    assert body["project"]["id"] == started["id"]
    assert [phase["id"] for phase in body["phases"]] == ["foundation", "build", "pre-launch", "launch"]
    assert body["phases"][0]["is_current"] is True
    assert sum(len(phase["tasks"]) for phase in body["phases"]) == 22
    assert not any(task["done"] for phase in body["phases"] for task in phase["tasks"])
    assert [decision["category"] for decision in body["decisions"]] == [
        "platform", "pricing", "structure", "timeline", "content"]
    assert body["decisions"][1]["recommendation"]["members"] == 40
    assert body["progress"]["overall"] == 0 and body["progress"]["timeline"]["label"] == "on track"
    assert [(message["role"], message["status"]) for message in body["messages"]] == [("assistant", "templated")]


def test_without_an_active_project_the_workspace_is_not_found(coach):
    response = coach.get("/api/v1/coach/projects/active")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_active_project"


def test_a_task_toggle_completes_it_and_answers_the_progress(tenant_alpha, coach, started):
    response = send(coach, "post", f"/api/v1/coach/projects/{started['id']}/tasks/audience-survey/toggle")

    assert response.status_code == 200
    assert (response.json()["done"], response.json()["progress"]["overall"]) == (True, 4)
    with schema_context(tenant_alpha.schema_name):
        assert TaskCompletion.objects.get().method == "manual"


def test_a_second_toggle_undoes_the_task(coach, started):
    path = f"/api/v1/coach/projects/{started['id']}/tasks/audience-survey/toggle"
    send(coach, "post", path)

    response = send(coach, "post", path)

    assert response.json()["done"] is False


def test_a_retried_toggle_with_its_idempotency_key_does_not_undo(coach, started):
    path = f"/api/v1/coach/projects/{started['id']}/tasks/audience-survey/toggle"
    send(coach, "post", path, HTTP_IDEMPOTENCY_KEY="tick-1")

    retry = send(coach, "post", path, HTTP_IDEMPOTENCY_KEY="tick-1")

    assert retry["Idempotent-Replayed"] == "true"
    assert coach.get("/api/v1/coach/projects/active").json()["phases"][0]["tasks"][0]["done"] is True


def test_an_unknown_task_is_a_json_not_found(coach, started):
    response = send(coach, "post", f"/api/v1/coach/projects/{started['id']}/tasks/build-a-rocket/toggle")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "task_unknown"


def test_a_decision_is_recorded_and_shown_as_current(coach, started):
    response = send(coach, "post", f"/api/v1/coach/projects/{started['id']}/decisions",
                    {"category": "platform", "option": "circle", "rationale": "Clean threads"})

    assert response.status_code == 201
    assert (response.json()["value"], response.json()["option"]) == ("Circle", "circle")
    workspace = coach.get("/api/v1/coach/projects/active").json()
    assert workspace["decisions"][0]["current"]["value"] == "Circle"
    assert workspace["progress"]["planning"] == 20


def test_a_decision_supersedes_the_last_one_through_the_api(tenant_alpha, coach, started):
    path = f"/api/v1/coach/projects/{started['id']}/decisions"
    send(coach, "post", path, {"category": "platform", "option": "circle"})
    send(coach, "post", path, {"category": "platform", "option": "discord"})

    with schema_context(tenant_alpha.schema_name):
        assert list(Decision.objects.values_list("value", "is_current")) == [("Discord", True), ("Circle", False)]


def test_a_decision_with_an_option_the_playbook_lacks_is_refused(coach, started):
    response = send(coach, "post", f"/api/v1/coach/projects/{started['id']}/decisions",
                    {"category": "platform", "option": "myspace"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "decision_invalid"
    assert response.json()["error"]["details"]["field"] == "option"


def test_patch_pauses_the_project(coach, started):
    response = send(coach, "patch", f"/api/v1/coach/projects/{started['id']}", {"status": "paused"})

    assert response.status_code == 200
    assert response.json()["project"]["status"] == "paused"


def test_patch_moves_the_target_date_and_the_phases(coach, started):
    response = send(coach, "patch", f"/api/v1/coach/projects/{started['id']}", {"target_launch_date": "2027-03-01"})

    project = response.json()["project"]
    assert project["target_launch_date"] == "2027-03-01"
    assert project["plan"]["phases"][-1]["ends_on"] == "2027-03-01"


def test_patch_refuses_a_closed_projects_comeback(coach, started):
    path = f"/api/v1/coach/projects/{started['id']}"
    send(coach, "patch", path, {"status": "abandoned"})

    response = send(coach, "patch", path, {"status": "active"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "project_status_transition_invalid"


def test_another_members_project_is_not_found(tenant_alpha, started):
    member = staff_user_create(tenant_alpha, Role.MEMBER)
    members_key = coach_client(tenant_alpha, created_by=member.email)

    response = send(members_key, "patch", f"/api/v1/coach/projects/{started['id']}", {"status": "paused"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "project_not_found"


def test_members_each_have_their_own_active_project(tenant_alpha, started):
    member = staff_user_create(tenant_alpha, Role.MEMBER)
    with schema_context(tenant_alpha.schema_name):
        project_for(member)

        assert Project.objects.filter(status="active").count() == 2
