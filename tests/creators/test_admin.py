"""The coach in the ops admin: the playbooks listed with their versions and shown read-only, never written; each
tenant's projects with their progress, decision history, task completions and transcript, read in its schema."""

import pytest
from django_tenants.utils import schema_context

from creators.services import decision_record, task_toggle
from tests.support.clock import NOW
from tests.support.creators import project_for
from tests.support.factories import OpsUserFactory
from tests.support.tenants import owner_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(public_client):
    public_client.force_login(OpsUserFactory(is_superuser=True))
    return public_client


def test_the_playbooks_are_listed_with_their_versions(admin_client):
    response = admin_client.get("/admin/creators/playbookfile/")

    assert response.status_code == 200
    assert [(playbook.key, playbook.version) for playbook in response.context["playbooks"]] == [
        ("agency-kit", 1), ("premium-community", 1), ("startup-kit", 1)]


def test_a_playbook_shows_its_decisions_phases_and_tasks(admin_client):
    response = admin_client.get("/admin/creators/playbookfile/premium-community/change/")

    assert response.status_code == 200
    assert b"Ask your audience what they would pay for" in response.content
    assert b"pricing: What tiers and monthly price will you charge?" in response.content


def test_an_unknown_playbook_is_not_found(admin_client):
    assert admin_client.get("/admin/creators/playbookfile/moon-base/change/").status_code == 404


def test_playbooks_cannot_be_added_or_deleted_in_the_admin(admin_client):
    assert admin_client.get("/admin/creators/playbookfile/add/").status_code == 404
    assert admin_client.post("/admin/creators/playbookfile/premium-community/delete/").status_code == 404


def test_the_admin_index_links_the_playbooks(admin_client):
    [creators] = [app for app in admin_client.get("/admin/").context["app_list"] if app["app_label"] == "creators"]

    assert [model["admin_url"] for model in creators["models"]] == ["/admin/creators/playbookfile/"]


def test_a_signed_out_visitor_is_sent_to_sign_in(public_client):
    response = public_client.get("/admin/creators/playbookfile/")

    assert response.status_code == 302


@pytest.fixture
def alpha_half_done(tenant_alpha):
    """Alpha's owner with a project: one task done, one decision superseded by another."""
    with schema_context(tenant_alpha.schema_name):
        owner = owner_of(tenant_alpha)
        project = project_for(owner)
        task_toggle(project=project, task_id="audience-survey", user=owner, now=NOW)
        decision_record(project=project, category="platform", option="discord", now=NOW)
        decision_record(project=project, category="platform", option="circle", now=NOW)
        return project


def test_a_tenants_coach_projects_are_listed_with_their_progress(admin_client, alpha_half_done):
    response = admin_client.get("/admin/creators/playbookfile/projects/?tenant=alpha")

    assert response.status_code == 200
    [row] = response.context["coach"].projects
    assert (row.user_email, row.progress.overall, row.progress.planning) == ("owner@alpha.test", 4, 20)
    assert [decision.value for decision in row.decisions] == ["Circle"]
    assert b"owner@alpha.test" in response.content and b"home baking for beginners" in response.content


def test_the_projects_page_asks_for_a_tenant_first(admin_client, alpha_half_done):
    response = admin_client.get("/admin/creators/playbookfile/projects/")

    assert response.status_code == 200 and response.context["coach"] is None


def test_a_project_shows_its_decision_history_completions_and_transcript(admin_client, alpha_half_done):
    response = admin_client.get(f"/admin/creators/playbookfile/projects/alpha/{alpha_half_done.pk}/")

    assert response.status_code == 200
    record = response.context["record"]
    assert [(decision.value, decision.is_current) for decision in record.decisions] == [
        ("Circle", True), ("Discord", False)]
    assert [completion.task_id for completion in record.completions] == ["audience-survey"]
    assert [message.status for message in record.messages] == ["templated"]
    assert b"50,000 followers on YouTube" in response.content


def test_a_project_id_of_another_tenant_is_not_found_under_this_one(admin_client, alpha_half_done):
    assert admin_client.get(f"/admin/creators/playbookfile/projects/beta/{alpha_half_done.pk}/").status_code == 404
    assert admin_client.get(f"/admin/creators/playbookfile/projects/nope/{alpha_half_done.pk}/").status_code == 404
