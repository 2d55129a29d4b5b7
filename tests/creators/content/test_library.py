"""The library through the API: list, search, read, edit with versions kept."""

import pytest

from tests.creators.content.conftest import patch_json
from tests.support.content import content_document_make
from tests.support.tenants import owner_of

pytestmark = pytest.mark.django_db


def test_the_list_is_newest_first_and_paginated(content_api, funded):
    for number in range(3):
        content_document_make(funded, title=f"Draft {number}")

    first = content_api.get("/api/v1/content?limit=2").json()
    second = content_api.get(f"/api/v1/content?limit=2&cursor={first['next_cursor']}").json()

    assert [document["title"] for document in first["data"]] == ["Draft 2", "Draft 1"]
    assert [document["title"] for document in second["data"]] == ["Draft 0"]
    assert second["has_more"] is False


def test_search_is_full_text_over_title_and_output_with_stemming(content_api, funded):
    content_document_make(funded, title="Sourdough launch", output="Our pricing for the club.")
    content_document_make(funded, title="Course outline", output="Module one: knives.")

    def titles(q: str) -> list[str]:
        return [document["title"] for document in content_api.get("/api/v1/content", {"q": q}).json()["data"]]

    assert titles("priced") == ["Sourdough launch"]
    assert titles("sourdough") == ["Sourdough launch"]
    assert titles("modules") == ["Course outline"]
    assert titles('"module one" -sourdough') == ["Course outline"]
    assert titles("croissant") == []


def test_a_document_answers_with_word_count_and_reading_ease(content_api, funded):
    document = content_document_make(funded, output="The cat sat on the mat.")

    body = content_api.get(f"/api/v1/content/{document.pk}").json()

    assert (body["word_count"], body["flesch_reading_ease"], body["versions"]) == (6, 116.1, [])
    assert body["cost"] == {"amount": "0.001050", "currency": "USD"}


def test_an_edit_keeps_the_previous_state_as_a_version(content_api, funded):
    document = content_document_make(funded, title="First", output="As the AI wrote it.")

    patch_json(content_api, f"/api/v1/content/{document.pk}", {"output": "Edited once."})
    body = patch_json(content_api, f"/api/v1/content/{document.pk}", {"title": "Second", "output": "Twice."}).json()

    assert (body["title"], body["output"]) == ("Second", "Twice.")
    assert [(v["number"], v["title"], v["output"]) for v in body["versions"]] == [
        (2, "First", "Edited once."), (1, "First", "As the AI wrote it.")]


def test_an_edit_that_changes_nothing_keeps_no_version(content_api, funded):
    document = content_document_make(funded, title="Same", output="Same text.")

    body = patch_json(content_api, f"/api/v1/content/{document.pk}", {"title": "Same"}).json()

    assert body["versions"] == []


def test_an_edit_by_a_person_names_them_on_the_version(alpha_owner_client, tenant_alpha):
    document = content_document_make(tenant_alpha, output="Before.")

    alpha_owner_client.post(f"/content/{document.pk}/", {"title": "A draft", "output": "After."})

    body = alpha_owner_client.get(f"/api/v1/content/{document.pk}").json()
    assert body["output"] == "After."
    assert body["versions"][0]["replaced_by"] == owner_of(tenant_alpha).email


def test_unknown_fields_in_an_edit_are_refused(content_api, funded):
    document = content_document_make(funded)

    response = patch_json(content_api, f"/api/v1/content/{document.pk}", {"body": "x"})

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"fields": {"body": ["Unknown field."]}}


def test_a_key_without_the_ai_scope_cannot_generate(funded, upstream):
    from tests.creators.content.conftest import MARKETING, post_json
    from tests.support.api import api_client, api_key_for

    client = api_client(funded, api_key_for(funded, scopes=["read", "write"]))

    response = post_json(client, "/api/v1/content", MARKETING)

    assert response.status_code == 403
    assert response.json()["error"]["details"]["required_scope"] == "ai"
    assert upstream.requests == []


@pytest.mark.parametrize("field", ["cost", "input_tokens", "output_tokens", "template", "author", "inputs"])
def test_an_edit_cannot_rewrite_what_the_generation_cost_or_who_wrote_it(content_api, funded, field):
    document = content_document_make(funded)

    response = patch_json(content_api, f"/api/v1/content/{document.pk}", {field: "0"})

    assert response.status_code == 400
    body = content_api.get(f"/api/v1/content/{document.pk}").json()
    assert (body["usage"], body["cost"]["amount"], body["template"]["key"]) == (
        {"input_tokens": 100, "output_tokens": 50}, "0.001050", "marketing-copy")
