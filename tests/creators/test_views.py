"""The coach's pages: the profile setup page (errors next to the fields), starting a project, the workspace with
progress, phases, tasks and decision cards, toggles answered with the refreshed board (htmx) or a redirect."""

import pytest
from django_tenants.utils import schema_context

from creators.models import CreatorProfile, Decision, Project, TaskCompletion
from tests.support.creators import profile_for, project_for
from tests.support.tenants import owner_of

pytestmark = pytest.mark.django_db

PROFILE_FORM = {"primary_platform": "youtube", "follower_count": "50000", "engagement_rate": "4",
                "niche": "home baking", "monthly_revenue_goal": "3000", "hours_per_week": "10",
                "audience_age_bands": "18-24:40, 25-34:35", "audience_top_countries": "us:55"}


@pytest.fixture
def alpha_project(tenant_alpha) -> Project:
    with schema_context(tenant_alpha.schema_name):
        return project_for(owner_of(tenant_alpha))


def test_without_a_profile_the_coach_asks_for_one(alpha_owner_client):
    response = alpha_owner_client.get("/coach/")

    assert response.status_code == 200
    assert b'data-testid="coach-setup"' in response.content


def test_the_profile_page_saves_the_profile(alpha_owner_client, tenant_alpha):
    response = alpha_owner_client.post("/coach/profile/", PROFILE_FORM)

    assert response.status_code == 302 and response["Location"] == "/coach/"
    with schema_context(tenant_alpha.schema_name):
        profile = CreatorProfile.objects.get()
    assert profile.audience_age_bands == [{"band": "18-24", "percent": 40}, {"band": "25-34", "percent": 35}]
    assert profile.audience_top_countries == [{"country": "US", "percent": 55}]


def test_the_profile_page_shows_errors_next_to_the_fields(alpha_owner_client, tenant_alpha):
    response = alpha_owner_client.post("/coach/profile/", {**PROFILE_FORM, "engagement_rate": "140",
                                                           "follower_count": "-3"})

    assert response.status_code == 400
    assert response.context["form"].errors.keys() == {"engagement_rate", "follower_count"}
    assert b"field-has-error" in response.content
    with schema_context(tenant_alpha.schema_name):
        assert not CreatorProfile.objects.exists()


def test_age_bands_in_the_wrong_shape_are_a_field_error(alpha_owner_client):
    response = alpha_owner_client.post("/coach/profile/", {**PROFILE_FORM, "audience_age_bands": "young"})

    assert response.status_code == 400
    assert "audience_age_bands" in response.context["form"].errors


def test_shares_over_a_hundred_percent_are_refused_by_the_service_on_the_field(alpha_owner_client):
    response = alpha_owner_client.post("/coach/profile/", {**PROFILE_FORM, "audience_age_bands": "18-24:80, 25-34:40"})

    assert response.status_code == 400
    assert "audience_age_bands" in response.context["form"].errors


def test_the_profile_page_is_filled_with_the_saved_profile(alpha_owner_client, tenant_alpha):
    with schema_context(tenant_alpha.schema_name):
        profile_for(owner_of(tenant_alpha), audience_age_bands=({"band": "18-24", "percent": 40},))

    response = alpha_owner_client.get("/coach/profile/")

    assert response.context["form"].initial["audience_age_bands"] == "18-24:40"


def test_with_a_profile_the_coach_offers_the_playbooks(alpha_owner_client, tenant_alpha):
    with schema_context(tenant_alpha.schema_name):
        profile_for(owner_of(tenant_alpha))

    response = alpha_owner_client.get("/coach/")

    assert b'data-testid="coach-start"' in response.content
    assert b"Premium community" in response.content and b"Startup Kit" in response.content


def test_starting_a_project_from_the_page(alpha_owner_client, tenant_alpha):
    with schema_context(tenant_alpha.schema_name):
        profile_for(owner_of(tenant_alpha))

    response = alpha_owner_client.post("/coach/projects/", {"playbook": "premium-community"})

    assert response.status_code == 302
    with schema_context(tenant_alpha.schema_name):
        assert Project.objects.get().status == "active"


def test_the_workspace_shows_progress_phases_tasks_decisions_and_the_chats_place(alpha_owner_client, alpha_project):
    response = alpha_owner_client.get("/coach/")

    content = response.content.decode()
    for testid in ("progress-overall", "progress-planning", "progress-execution", "progress-timeline",
                   "decision-platform", "decision-pricing", "decision-structure", "decision-timeline",
                   "decision-content", "coach-chat", "toggle-audience-survey", "toggle-plan-month-two"):
        assert f'data-testid="{testid}"' in content
    assert "Recommended from your numbers: <strong>79.00 USD</strong>" in content
    assert "50,000 followers on YouTube" in content  # the templated welcome
    assert 'aria-current="step"' in content


def test_an_htmx_toggle_answers_the_refreshed_board(alpha_owner_client, alpha_project, tenant_alpha):
    response = alpha_owner_client.post(f"/coach/projects/{alpha_project.pk}/tasks/audience-survey/toggle/",
                                       HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response.templates[0].name == "creators/_board.html"
    assert b'aria-checked="true" aria-label="Undo: Ask your audience' in response.content
    with schema_context(tenant_alpha.schema_name):
        assert TaskCompletion.objects.filter(undone_at__isnull=True).count() == 1


def test_finishing_a_phase_is_celebrated(alpha_owner_client, alpha_project):
    tasks = ["audience-survey", "define-promise", "choose-platform", "set-pricing", "design-structure",
             "set-launch-date"]
    for task_id in tasks[:-1]:
        alpha_owner_client.post(f"/coach/projects/{alpha_project.pk}/tasks/{task_id}/toggle/", HTTP_HX_REQUEST="true")

    response = alpha_owner_client.post(f"/coach/projects/{alpha_project.pk}/tasks/{tasks[-1]}/toggle/",
                                       HTTP_HX_REQUEST="true")

    assert b'data-testid="phase-complete"' in response.content
    assert b"Phase complete: Foundation" in response.content


def test_a_toggle_without_javascript_redirects_back(alpha_owner_client, alpha_project):
    response = alpha_owner_client.post(f"/coach/projects/{alpha_project.pk}/tasks/audience-survey/toggle/")

    assert response.status_code == 302 and response["Location"] == "/coach/"


def test_an_unknown_task_on_the_page_is_not_found(alpha_owner_client, alpha_project):
    response = alpha_owner_client.post(f"/coach/projects/{alpha_project.pk}/tasks/build-a-rocket/toggle/")

    assert response.status_code == 404


def test_a_decision_card_records_the_choice(alpha_owner_client, alpha_project, tenant_alpha):
    response = alpha_owner_client.post(f"/coach/projects/{alpha_project.pk}/decisions/",
                                       {"category": "platform", "option": "discord", "rationale": "Gamers"})

    assert response.status_code == 302
    with schema_context(tenant_alpha.schema_name):
        assert Decision.objects.get().rationale == "Gamers"
    assert b'data-testid="decision-current-platform">Discord' in alpha_owner_client.get("/coach/").content


def test_pausing_from_the_page(alpha_owner_client, alpha_project, tenant_alpha):
    alpha_owner_client.post(f"/coach/projects/{alpha_project.pk}/", {"status": "paused"})

    with schema_context(tenant_alpha.schema_name):
        assert Project.objects.get().status == "paused"


def test_a_refused_status_move_says_why(alpha_owner_client, alpha_project):
    alpha_owner_client.post(f"/coach/projects/{alpha_project.pk}/", {"status": "abandoned"})

    response = alpha_owner_client.post(f"/coach/projects/{alpha_project.pk}/", {"status": "active"}, follow=True)

    assert b"cannot become active" in response.content


def test_a_paused_project_stays_on_the_page_to_be_resumed(alpha_owner_client, alpha_project, tenant_alpha):
    alpha_owner_client.post(f"/coach/projects/{alpha_project.pk}/", {"status": "paused"})

    response = alpha_owner_client.get("/coach/")

    assert b"Paused" in response.content and b">Resume</button>" in response.content
    alpha_owner_client.post(f"/coach/projects/{alpha_project.pk}/", {"status": "active"})
    with schema_context(tenant_alpha.schema_name):
        assert Project.objects.get().status == "active"
