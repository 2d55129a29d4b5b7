"""Reads of a tenant's content library. Documents live in the tenant's schema, so the connection's schema (set
by the tenant's host) is the tenant boundary: these run only on a tenant host, or inside schema_context.

Search (`?q=`) is PostgreSQL full-text search over the title and the output (English configuration,
websearch syntax: words, "quoted phrases", -excluded, OR): "pricing" finds "price" and "priced". It runs
without an index, which a library of a few thousand drafts per tenant does not need."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db.models import Count, QuerySet, Sum
from django_tenants.utils import schema_context

from creators.models import ContentDocument, ContentDocumentVersion
from tenants.models import Tenant

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


@dataclass(frozen=True)
class TenantLibrary:
    """One tenant's library as ops see it: totals and its latest documents (read in the tenant's schema)."""

    tenant: Tenant
    documents: int
    tokens: int
    cost_by_currency: dict[str, Decimal]
    latest: list[ContentDocument]


def content_library_of(*, tenant: Tenant, limit: int = 100) -> TenantLibrary:
    """For the ops admin on the public host: the tenant's library read inside its schema (the documents come
    back with their authors loaded, so nothing reads the schema again)."""
    with schema_context(tenant.schema_name):
        totals = ContentDocument.objects.aggregate(documents=Count("id"), input_tokens=Sum("input_tokens"),
                                                   output_tokens=Sum("output_tokens"))
        costs = dict(ContentDocument.objects.order_by().values_list("currency").annotate(total=Sum("cost")))
        latest = list(content_document_list()[:limit])
    return TenantLibrary(tenant=tenant, documents=totals["documents"],
                         tokens=(totals["input_tokens"] or 0) + (totals["output_tokens"] or 0),
                         cost_by_currency=costs, latest=latest)
