"""Content documents live in each tenant's schema: tenant B's staff and keys can neither see nor edit nor
export A's documents, by page or API, and A's key is refused on B's host before anything is generated."""

import json

import pytest
from django_tenants.utils import schema_context

from creators.models import ContentDocument
from tests.support.api import api_client, api_key_for
from tests.support.content import content_document_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def alphas_document(tenant_alpha):
    return content_document_make(tenant_alpha, title="Alpha secret plan", output="Alpha's launch pricing.")


def alpha_output(document) -> str:
    with schema_context("alpha"):
        return ContentDocument.objects.get(pk=document.pk).output


@pytest.mark.parametrize("suffix", ["", "export.md", "export.html"])
def test_tenant_bs_staff_cannot_open_as_documents_pages(beta_owner_client, alphas_document, suffix):
    response = beta_owner_client.get(f"/content/{alphas_document.pk}/{suffix}")

    assert response.status_code == 404
    assert b"Alpha" not in response.content


def test_tenant_bs_staff_cannot_edit_as_document_by_page(beta_owner_client, alphas_document):
    response = beta_owner_client.post(f"/content/{alphas_document.pk}/", {"title": "Mine", "output": "Taken."})

    assert response.status_code == 404
    assert alpha_output(alphas_document) == "Alpha's launch pricing."


def test_tenant_bs_library_and_search_never_show_as_documents(beta_owner_client, alphas_document):
    for query in ({}, {"q": "pricing"}):
        assert b"Alpha secret plan" not in beta_owner_client.get("/content/", query).content


def test_tenant_bs_key_cannot_read_list_or_edit_as_documents(tenant_beta, alphas_document):
    client = api_client(tenant_beta, api_key_for(tenant_beta))

    assert client.get(f"/api/v1/content/{alphas_document.pk}").status_code == 404
    assert client.get("/api/v1/content", {"q": "pricing"}).json()["data"] == []
    response = client.patch(f"/api/v1/content/{alphas_document.pk}", json.dumps({"output": "Taken."}),
                            content_type="application/json")
    assert response.status_code == 404
    assert alpha_output(alphas_document) == "Alpha's launch pricing."


def test_as_key_is_refused_on_bs_host(tenant_alpha, tenant_beta, alphas_document, upstream):
    client = api_client(tenant_beta, api_key_for(tenant_alpha))

    assert client.get(f"/api/v1/content/{alphas_document.pk}").status_code == 401
    response = client.post("/api/v1/content", json.dumps({"template": "report", "inputs": {}}),
                           content_type="application/json")
    assert response.status_code == 401
    assert upstream.requests == []


def test_tenant_bs_own_document_opens_with_its_own_content_only(beta_owner_client, tenant_beta, alphas_document):
    betas = content_document_make(tenant_beta, title="Beta notes", output="Beta only.")

    html = beta_owner_client.get(f"/content/{betas.pk}/").content.decode()

    assert "Beta notes" in html and "Alpha" not in html


def test_the_saved_documents_admin_is_not_on_a_tenants_host(alpha_owner_client, alphas_document):
    response = alpha_owner_client.get("/admin/creators_catalog/contenttemplate/documents/", {"tenant": "alpha"})

    assert response.status_code == 404
    assert b"Alpha secret plan" not in response.content
