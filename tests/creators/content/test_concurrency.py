"""Two editors saving the same document at once: the row lock orders them, each keeps the state it replaced, and
no version number is taken twice."""

import pytest
from django_tenants.utils import schema_context

from creators.content.services import content_document_update
from creators.models import ContentDocument
from tenants.models import Tenant
from tests.support.concurrency import run_together
from tests.support.content import content_document_make


@pytest.fixture
def alpha(committed_db):
    return Tenant.objects.get(slug="alpha")


@pytest.fixture
def document(alpha):
    """A committed draft (the racing threads read it on their own connections), removed afterwards."""
    document = content_document_make(alpha, title="Draft", output="As the AI wrote it.")
    yield document
    with schema_context(alpha.schema_name):
        ContentDocument.objects.filter(pk=document.pk).delete()


def test_two_editors_racing_both_keep_what_they_replaced(document, alpha):
    def edit(text: str):
        def work():
            with schema_context(alpha.schema_name):
                return content_document_update(document=document, output=text, editor=None).output
        return work

    outcomes = run_together(edit("Editor one."), edit("Editor two."))

    assert sorted(outcomes) == ["Editor one.", "Editor two."]
    with schema_context(alpha.schema_name):
        versions = list(document.versions.order_by("number").values_list("number", "output"))
        final = ContentDocument.objects.get(pk=document.pk).output
    assert [number for number, _ in versions] == [1, 2]
    assert versions[0][1] == "As the AI wrote it."
    assert versions[1][1] != final and {versions[1][1], final} == {"Editor one.", "Editor two."}
