"""The coach: tenant B's keys and sessions never read or write tenant A's profiles, projects, tasks or decisions,
on the pages or in the API (each tenant's coach rows live in its own schema; project ids are per schema, so the
same id on another host names another tenant's project or nothing)."""

import json

import pytest
from django_tenants.utils import schema_context

from creators.models import CreatorProfile, Decision, Project, TaskCompletion
from tenants.services import api_key_create
from tests.support.api import api_client
from tests.support.creators import project_for
from tests.support.tenants import client_for, owner_of

pytestmark = pytest.mark.django_db

BETA_NICHE = "beta-only sourdough secrets"
PROFILE = {"primary_platform": "tiktok", "follower_count": 10, "engagement_rate": "1.00", "niche": "alpha",
           "monthly_revenue_goal": {"amount": "1.00", "currency": "USD"}, "hours_per_week": 1}


def coach_key(tenant) -> str:
    return api_key_create(tenant=tenant, name="coach", scopes=["coach"], created_by=tenant.owner_email).secret


@pytest.fixture
def beta_project(tenant_beta) -> Project:
    with schema_context(tenant_beta.schema_name):
        return project_for(owner_of(tenant_beta), niche=BETA_NICHE)


def beta_rows(tenant_beta) -> tuple:
    with schema_context(tenant_beta.schema_name):
        return (list(CreatorProfile.objects.values_list("niche", "follower_count")),
                list(Project.objects.values_list("pk", "status", "target_launch_date")),
                TaskCompletion.objects.count(), Decision.objects.count())


def test_alphas_coach_page_shows_none_of_betas_coach(alpha_owner_client, beta_project):
    response = alpha_owner_client.get("/coach/")

    assert response.status_code == 200
    assert BETA_NICHE.encode() not in response.content
    assert b'data-testid="coach-setup"' in response.content


@pytest.mark.parametrize("path", ["/coach/", "/coach/profile/"])
def test_an_alpha_session_on_betas_host_is_sent_to_sign_in(alpha_owner_client, tenant_beta, beta_project, path):
    on_beta = client_for(tenant_beta)
    on_beta.cookies = alpha_owner_client.cookies

    response = on_beta.get(path)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_alpha_session_cannot_post_betas_toggles_decisions_or_profile(alpha_owner_client, tenant_beta,
                                                                         beta_project):
    on_beta = client_for(tenant_beta)
    on_beta.cookies = alpha_owner_client.cookies
    before = beta_rows(tenant_beta)

    for path, data in [(f"/coach/projects/{beta_project.pk}/tasks/audience-survey/toggle/", {}),
                       (f"/coach/projects/{beta_project.pk}/decisions/", {"category": "platform", "option": "discord"}),
                       (f"/coach/projects/{beta_project.pk}/", {"status": "abandoned"}),
                       ("/coach/profile/", {"niche": "hijacked"}),
                       ("/coach/projects/", {"playbook": "startup-kit"})]:
        assert on_beta.post(path, data).status_code == 302

    assert beta_rows(tenant_beta) == before


def test_betas_project_id_on_alphas_host_names_nothing_of_beta(alpha_owner_client, tenant_beta, beta_project):
    before = beta_rows(tenant_beta)

    response = alpha_owner_client.post(f"/coach/projects/{beta_project.pk}/tasks/audience-survey/toggle/")

    assert response.status_code == 404
    assert beta_rows(tenant_beta) == before


def test_a_key_of_beta_is_refused_on_alphas_coach_api(tenant_alpha, tenant_beta, beta_project):
    on_alpha = api_client(tenant_alpha, coach_key(tenant_beta))

    responses = [on_alpha.get("/api/v1/coach/profile"), on_alpha.get("/api/v1/coach/projects/active"),
                 on_alpha.get("/api/v1/coach/playbooks"),
                 on_alpha.put("/api/v1/coach/profile", json.dumps(PROFILE), content_type="application/json"),
                 on_alpha.post("/api/v1/coach/projects", json.dumps({"playbook": "startup-kit"}),
                               content_type="application/json")]

    for response in responses:
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"
    with schema_context(tenant_alpha.schema_name):
        assert not CreatorProfile.objects.exists()


def test_alphas_key_reads_alphas_coach_only(tenant_alpha, beta_project):
    alpha = api_client(tenant_alpha, coach_key(tenant_alpha))

    assert alpha.get("/api/v1/coach/profile").status_code == 404
    assert alpha.get("/api/v1/coach/projects/active").status_code == 404
    assert alpha.get(f"/api/v1/coach/projects/{beta_project.pk}").status_code == 404


def test_alphas_key_cannot_write_betas_project_by_its_id(tenant_alpha, tenant_beta, beta_project):
    alpha = api_client(tenant_alpha, coach_key(tenant_alpha))
    before = beta_rows(tenant_beta)

    responses = [
        alpha.post(f"/api/v1/coach/projects/{beta_project.pk}/tasks/audience-survey/toggle"),
        alpha.post(f"/api/v1/coach/projects/{beta_project.pk}/decisions",
                   json.dumps({"category": "platform", "option": "discord"}), content_type="application/json"),
        alpha.patch(f"/api/v1/coach/projects/{beta_project.pk}", json.dumps({"status": "abandoned"}),
                    content_type="application/json"),
    ]

    assert [response.status_code for response in responses] == [404, 404, 404]
    assert beta_rows(tenant_beta) == before


def test_betas_key_on_its_own_host_reads_betas_project(tenant_beta, beta_project):
    beta = api_client(tenant_beta, coach_key(tenant_beta))

    body = beta.get("/api/v1/coach/projects/active").json()

    assert body["project"]["id"] == beta_project.pk


def test_the_coach_admin_pages_do_not_exist_on_a_tenants_host(alpha_owner_client, beta_project):
    for path in ["/admin/creators/playbookfile/projects/?tenant=beta",
                 f"/admin/creators/playbookfile/projects/beta/{beta_project.pk}/"]:
        response = alpha_owner_client.get(path)
        assert response.status_code == 404
        assert BETA_NICHE.encode() not in response.content
