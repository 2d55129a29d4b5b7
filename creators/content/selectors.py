"""Reads of a tenant's content library. Documents live in the tenant's schema, so the connection's schema (set
by the tenant's host) is the tenant boundary: these run only on a tenant host, or inside schema_context.

Search (`?q=`) is PostgreSQL full-text search over the title and the output (English configuration,
websearch syntax: words, "quoted phrases", -excluded, OR): "pricing" finds "price" and "priced". It runs
without an index, which a library of a few thousand drafts per tenant does not need."""

from __future__ import annotations

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db.models import QuerySet

from creators.models import ContentDocument, ContentDocumentVersion

SEARCH_CONFIG = "english"


def content_document_list(*, q: str = "") -> QuerySet[ContentDocument]:
    """The library, newest first; with `q`, only the documents matching it."""
    documents = ContentDocument.objects.select_related("author").order_by("-created_at", "-id")
    q = q.strip()
    if q:
        vector = SearchVector("title", weight="A", config=SEARCH_CONFIG) + SearchVector(
            "output", weight="B", config=SEARCH_CONFIG)
        documents = documents.annotate(search=vector).filter(
            search=SearchQuery(q, search_type="websearch", config=SEARCH_CONFIG))
    return documents


def content_document_get(*, document_id: int) -> ContentDocument | None:
    return ContentDocument.objects.select_related("author").filter(pk=document_id).first()


def content_document_versions(*, document: ContentDocument) -> QuerySet[ContentDocumentVersion]:
    return document.versions.select_related("edited_by").order_by("-number")
