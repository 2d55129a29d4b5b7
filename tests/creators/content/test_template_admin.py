"""Ops edit content templates in admin: saving an edit makes the next version, active, and keeps the old one
(inactive, read only) for the documents written with it; declarations that do not hold are refused."""

import json

import pytest

from accounts.models import User
from creators.catalog.models import ContentTemplate
from creators.catalog.services import content_template_revise

pytestmark = pytest.mark.django_db

CHANGE = "/admin/creators_catalog/contenttemplate/{}/change/"


@pytest.fixture
def admin_client(public_client, db):
    public_client.force_login(User.objects.create_superuser("operator@tollgate.test", "pw-operator-123"))
    return public_client


def form_of(template: ContentTemplate, **changes) -> dict:
    values = {"key": template.key, "name": template.name, "category": template.category,
              "description": template.description, "fields": json.dumps(template.fields),
              "system_prompt": template.system_prompt, "prompt": template.prompt, "max_tokens": template.max_tokens}
    return {**values, **changes}


def test_saving_an_edit_makes_the_next_version_active_and_keeps_the_old_one(admin_client):
    first = ContentTemplate.objects.get(key="report", is_active=True)

    response = admin_client.post(CHANGE.format(first.pk), form_of(first, prompt="Summarise {data}."))

    assert response.status_code == 302
    versions = list(ContentTemplate.objects.filter(key="report").order_by("version")
                    .values_list("version", "is_active", "prompt", "created_by"))
    assert versions == [(1, False, first.prompt, "seed"), (2, True, "Summarise {data}.", "operator@tollgate.test")]


def test_an_inactive_version_cannot_be_changed(admin_client):
    first = ContentTemplate.objects.get(key="report", is_active=True)
    content_template_revise(key="report", values={"prompt": "New {data}."}, actor="ops")

    admin_client.post(CHANGE.format(first.pk), form_of(first, prompt="Rewritten {data}."))

    assert ContentTemplate.objects.filter(key="report").count() == 2
    assert ContentTemplate.objects.get(pk=first.pk).prompt == first.prompt


@pytest.mark.parametrize(("changes", "message"), [
    ({"fields": json.dumps([{"name": "data", "type": "spreadsheet"}])}, "type must be one of"),
    ({"prompt": "Summarise {dta}."}, "does not declare: dta"),
    ({"max_tokens": 100_000}, "AI_MAX_TOKENS_CAP"),
])
def test_a_declaration_that_does_not_hold_is_refused(admin_client, changes, message):
    first = ContentTemplate.objects.get(key="report", is_active=True)

    response = admin_client.post(CHANGE.format(first.pk), form_of(first, **changes))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert ContentTemplate.objects.filter(key="report").count() == 1


def test_a_new_template_starts_at_version_one(admin_client):
    first = ContentTemplate.objects.get(key="report", is_active=True)

    admin_client.post("/admin/creators_catalog/contenttemplate/add/",
                      form_of(first, key="press-release", name="Press release"))

    created = ContentTemplate.objects.get(key="press-release")
    assert (created.version, created.is_active, created.created_by) == (1, True, "operator@tollgate.test")


def test_a_documents_template_version_survives_an_edit(content_api, funded, upstream):
    from tests.creators.content.conftest import MARKETING, post_json

    upstream.answer_json(text="Draft")
    post_json(content_api, "/api/v1/content", MARKETING)
    content_template_revise(key="marketing-copy", values={"name": "Marketing copy (new)"}, actor="ops")

    document = content_api.get("/api/v1/content").json()["data"][0]

    assert document["template"] == {"key": "marketing-copy", "version": 1, "name": "Marketing copy"}


def test_ops_read_a_tenants_saved_documents_and_only_that_tenants(admin_client, tenant_alpha, tenant_beta):
    from tests.support.content import content_document_make

    content_document_make(tenant_alpha, title="Alpha launch email")
    content_document_make(tenant_beta, title="Beta lesson")

    html = admin_client.get("/admin/creators_catalog/contenttemplate/documents/", {"tenant": "alpha"}).content.decode()

    assert "Alpha launch email" in html and "Beta lesson" not in html
    assert "1 document · 150 tokens · 0.001050 USD" in html


def test_the_template_list_links_to_the_saved_documents(admin_client):
    html = admin_client.get("/admin/creators_catalog/contenttemplate/").content.decode()

    assert 'href="/admin/creators_catalog/contenttemplate/documents/"' in html
