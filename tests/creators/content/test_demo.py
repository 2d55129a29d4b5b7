"""The demo library: a few hand-written drafts (not metered), one edited, written once however often it runs."""

import pytest
from django.core.management import call_command
from django_tenants.utils import schema_context

from tests.creators.content.conftest import documents_of

pytestmark = pytest.mark.django_db


def test_the_demo_drafts_are_written_once_with_an_edit_kept(tenant_alpha, monkeypatch):
    from creators.management.commands import content_demo_seed

    monkeypatch.setattr(content_demo_seed, "DEMO_TENANT", "alpha")

    call_command("content_demo_seed")
    call_command("content_demo_seed")

    documents = documents_of(tenant_alpha)
    assert len(documents) == 3
    assert {document.cost for document in documents} == {0}
    edited = next(document for document in documents if document.template_key == "marketing-copy")
    with schema_context(tenant_alpha.schema_name):
        assert list(edited.versions.values_list("number", flat=True)) == [1]
        assert edited.author.email == tenant_alpha.owner_email
