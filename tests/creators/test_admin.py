"""The playbooks in the ops admin: listed with their versions and shown read-only, never written."""

import pytest

from tests.support.factories import OpsUserFactory

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
