"""The content pages: the library, a template's form (field errors, the draft written whole or streamed), the
document page with its edit and versions, and the plain notice without an Anthropic key."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from metering.wallets.services import wallet_debit
from tests.creators.content.conftest import documents_of
from tests.support.anthropic import START_BALANCE
from tests.support.content import content_document_make
from tests.support.tenants import owner_of

pytestmark = pytest.mark.django_db

FORM = {"topic": "A paid community for home bakers", "content_type": "email", "tone": "friendly",
        "audience": "Weekend bakers"}


def test_the_library_offers_every_template_and_lists_the_documents(alpha_owner_client, tenant_alpha):
    content_document_make(tenant_alpha, title="Launch email")

    html = alpha_owner_client.get("/content/").content.decode()

    assert 'href="/content/new/marketing-copy/"' in html and 'href="/content/new/report/"' in html
    assert "Launch email" in html


def test_the_library_searches(alpha_owner_client, tenant_alpha):
    content_document_make(tenant_alpha, title="Launch email", output="Pricing tiers.")
    content_document_make(tenant_alpha, title="Lesson one", output="Knife skills.")

    html = alpha_owner_client.get("/content/", {"q": "prices"}).content.decode()

    assert "Launch email" in html and "Lesson one" not in html


def test_the_nav_links_to_content(alpha_owner_client):
    assert 'href="/content/"' in alpha_owner_client.get("/").content.decode()


def test_field_errors_are_shown_under_their_fields(alpha_owner_client, tenant_alpha, upstream):
    response = alpha_owner_client.post("/content/new/marketing-copy/", {**FORM, "tone": "angry", "audience": ""})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose one of: friendly" in html and "This field is required." in html
    assert upstream.requests == []


def test_a_draft_is_written_saved_and_opened(alpha_owner_client, funded, upstream):
    upstream.answer_json(text="# Bake with us\n\nJoin.", input_tokens=100, output_tokens=20)

    response = alpha_owner_client.post("/content/new/marketing-copy/", FORM)

    (document,) = documents_of(funded)
    assert response.status_code == 302 and response["Location"] == f"/content/{document.pk}/"
    assert document.author.email == owner_of(funded).email
    assert (document.input_tokens, document.output_tokens) == (100, 20)
    page = alpha_owner_client.get(response["Location"]).content.decode()
    assert "<h1>Bake with us</h1>" in page and 'id="document-words">4<' in page


def test_the_browser_gets_the_draft_as_a_stream(alpha_owner_client, funded, upstream):
    upstream.answer_sse("basic_response")

    response = alpha_owner_client.post("/content/new/marketing-copy/", FORM, HTTP_ACCEPT="text/event-stream")

    assert response["Content-Type"] == "text/event-stream"
    body = b"".join(response.streaming_content).decode()
    assert '"text":"Hello"' in body and "event: tollgate.content" in body
    assert [document.output for document in documents_of(funded)] == ["Hello there!"]


def test_a_csv_file_upload_fills_the_data_field(alpha_owner_client, funded, upstream):
    upstream.answer_json(text="# Sales report")
    upload = SimpleUploadedFile("sales.csv", b"\xef\xbb\xbfmonth;revenue\nJan;100\n", content_type="text/csv")

    alpha_owner_client.post("/content/new/report/", {"report_title": "Sales", "data": "", "data__file": upload})

    (document,) = documents_of(funded)
    assert document.inputs["data"] == "month,revenue\nJan,100"
    assert "month,revenue\nJan,100" in upstream.requests[0]["messages"][0]["content"]


def test_an_empty_wallet_is_said_plainly_on_the_page(alpha_owner_client, funded, upstream):
    wallet_debit(tenant=funded, tokens=START_BALANCE, feature="ai_api", reason="spent", idempotency_key="spent")

    response = alpha_owner_client.post("/content/new/marketing-copy/", FORM)

    assert response.status_code == 402
    assert "Not enough AI tokens" in response.content.decode()
    assert documents_of(funded) == []


@override_settings(ANTHROPIC_API_KEY="")
def test_without_a_key_the_page_says_the_operator_must_set_one(alpha_owner_client):
    html = alpha_owner_client.get("/content/new/marketing-copy/").content.decode()

    assert "Content generation needs an Anthropic API key" in html
    assert "<button type=\"submit\" class=\"button button-primary\" disabled>" in html


def test_the_document_page_edits_and_lists_versions(alpha_owner_client, tenant_alpha):
    document = content_document_make(tenant_alpha, title="Draft", output="As written.")

    response = alpha_owner_client.post(f"/content/{document.pk}/", {"title": "Draft", "output": "Better."})
    html = alpha_owner_client.get(response["Location"]).content.decode()

    assert "Version 1 (as the AI wrote it)" in html and "As written." in html
    assert "<p>Better.</p>" in html


def test_the_preview_escapes_html_in_the_text(alpha_owner_client, tenant_alpha):
    document = content_document_make(tenant_alpha, output="<script>alert(1)</script>")

    html = alpha_owner_client.get(f"/content/{document.pk}/").content.decode()

    assert "<script>alert(1)</script>" not in html
