"""Content generation API: write a draft from a template (whole or streamed), list and search the library, read
and edit a document. Generation is paid from the AI-token wallet under the feature `content`
(creators.content.services)."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Action
from config.api.errors import ApiError
from config.api.pagination import ApiCursorPagination
from config.api.schema import error_responses, scopes_note
from config.api.serializers import StrictCharField, StrictInputSerializer
from creators.catalog.selectors import content_template_active_get
from creators.content.readability import readability
from creators.content.selectors import content_document_get, content_document_list, content_document_versions
from creators.content.services import (
    OUTPUT_MAX,
    TITLE_MAX,
    content_document_update,
    content_generate,
    content_generate_stream,
    content_inputs_validate,
)
from creators.models import ContentDocument
from metering.gateway.client import ai_configured_check

GENERATE_ERRORS = (400, 401, 402, 403, 404, 413, 415, 429, 502, 503, 504)


def _author_email(document: ContentDocument) -> str | None:
    return document.author.email if document.author_id and document.author else None


def _user_or_none(request):
    # A person signed in to the tenant is the author; a program calling with an API key is nobody's.
    return request.user if getattr(request.user, "pk", None) is not None else None


@extend_schema_serializer(component_name="ContentTemplateRef")
class TemplateRefSerializer(serializers.Serializer):
    key = serializers.CharField()
    version = serializers.IntegerField(help_text="The version the draft was written with.")
    name = serializers.CharField()


@extend_schema_serializer(component_name="ContentCost")
class CostSerializer(serializers.Serializer):
    amount = serializers.CharField(help_text="Exact decimal, what the generation cost at the model's list prices.")
    currency = serializers.CharField()


@extend_schema_serializer(component_name="ContentUsage")
class UsageSerializer(serializers.Serializer):
    input_tokens = serializers.IntegerField(help_text="Every input token the wallet paid for (cache included).")
    output_tokens = serializers.IntegerField()


@extend_schema_serializer(component_name="ContentVersion")
class VersionSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="1 is what the AI wrote.")
    title = serializers.CharField()
    output = serializers.CharField(allow_blank=True)
    replaced_by = serializers.CharField(allow_null=True, help_text="Who made the edit that replaced it.")
    replaced_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="ContentDocument")
class DocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    template = TemplateRefSerializer()
    inputs = serializers.DictField(child=serializers.CharField(allow_blank=True))
    output = serializers.CharField(allow_blank=True, help_text="Markdown.")
    word_count = serializers.IntegerField()
    flesch_reading_ease = serializers.FloatField(allow_null=True, help_text="Higher is easier; 60-70 is plain "
                                                 "English. Null for a text without words.")
    model = serializers.CharField(allow_blank=True)
    usage = UsageSerializer()
    cost = CostSerializer()
    author = serializers.CharField(allow_null=True, help_text="The staff member's email; null when an API key "
                                   "generated it.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="ContentDocumentDetail")
class DocumentDetailSerializer(DocumentSerializer):
    versions = VersionSerializer(many=True, help_text="Earlier states, newest first.")


def document_data(document: ContentDocument, *, versions: bool = False) -> dict:
    scores = readability(document.output)
    data = {
        "id": document.pk, "title": document.title,
        "template": {"key": document.template_key, "version": document.template_version,
                     "name": document.template_name},
        "inputs": document.inputs, "output": document.output, "word_count": scores.words,
        "flesch_reading_ease": scores.flesch_reading_ease, "model": document.model,
        "usage": {"input_tokens": document.input_tokens, "output_tokens": document.output_tokens},
        "cost": {"amount": format(document.cost, "f"), "currency": document.currency},
        "author": _author_email(document), "created_at": document.created_at, "updated_at": document.updated_at,
    }
    if versions:
        data["versions"] = [{"number": version.number, "title": version.title, "output": version.output,
                             "replaced_by": version.edited_by.email if version.edited_by else None,
                             "replaced_at": version.created_at}
                            for version in content_document_versions(document=document)]
    return data


def _document_or_404(document_id: int) -> ContentDocument:
    document = content_document_get(document_id=document_id)
    if document is None:
        # Documents live in the tenant's schema: another tenant's id is simply not there.
        raise ApiError(status_code=404, code="not_found", message="No document with this id.")
    return document


class ContentPagination(ApiCursorPagination):
    ordering = ("-created_at", "-id")


class ContentListCreateApi(APIView):
    pagination_class = ContentPagination
    # Generating spends AI tokens, as the AI API does: the same `ai` scope. Reading the library is `read`.
    required_scopes = {"GET": "read", "POST": "ai"}
    required_actions = {"GET": Action.USE_PRODUCT, "POST": Action.USE_PRODUCT}

    class QuerySerializer(serializers.Serializer):
        q = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                  help_text="Full-text search over title and text (PostgreSQL, English "
                                            "stemming; websearch syntax: \"a phrase\", -word, or).")

    @extend_schema_serializer(component_name="ContentCreate")
    class InputSerializer(StrictInputSerializer):
        template = StrictCharField(max_length=60, help_text="A template key, e.g. marketing-copy (its active "
                                   "version is used).")
        inputs = serializers.DictField(help_text="The template's fields by name: strings (a number field also "
                                       "takes a number; a csv field takes the CSV text).")
        stream = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        operation_id="content_list", summary="The content library, newest first",
        description=scopes_note("read") + " Saved drafts of the tenant, with ?q= to search them.",
        parameters=[QuerySerializer],
        responses={200: DocumentSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(content_document_list(q=query.validated_data.get("q", "")), request,
                                           view=self)
        return paginator.get_paginated_response(DocumentSerializer([document_data(d) for d in page],
                                                                   many=True).data)

    @extend_schema(
        operation_id="content_create", summary="Write a draft from a template",
        description=scopes_note("ai") + " Fills the template's prompt with the inputs (validated against its "
        "fields: required, lengths, choices, CSV size) and has Claude write the draft, which is saved to the "
        "library. Paid from the AI-token wallet under the feature `content`: the template's max_tokens plus an "
        "input estimate is reserved first (402 insufficient_balance when it is not there) and the real usage is "
        "paid afterwards; the document's usage and cost are that payment. 404 for an unknown template. With "
        "\"stream\": true the answer is text/event-stream: the AI API's events (Anthropic's, then "
        "`tollgate.usage`), then `event: tollgate.content` with the saved document's id, title and word count; "
        "a stream cut short is charged for and saved with what it sent. 503 ai_unavailable when the server "
        "has no Anthropic key. Not idempotent: each call is a new generation (no Idempotency-Key), like "
        "POST /api/v1/ai/messages.",
        request=InputSerializer,
        responses={
            (201, "application/json"): DocumentSerializer,
            (200, "text/event-stream"): OpenApiResponse(
                OpenApiTypes.STR, description='With "stream": true: server-sent events, then '
                '`event: tollgate.content` (data: type, document {id, title, word_count}).'),
            **error_responses(*GENERATE_ERRORS),
        },
    )
    def post(self, request):
        ai_configured_check()  # before the body: without a key nothing else about the request matters
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        template = content_template_active_get(key=values["template"])
        if template is None:
            raise ApiError(status_code=404, code="not_found", message="No content template with this key.",
                           details={"field": "template"})
        inputs = content_inputs_validate(template=template, raw=values["inputs"])
        common = {"tenant": request.tenant, "template": template, "inputs": inputs,
                  "author": _user_or_none(request), "created_by": request.user.email}
        if values["stream"]:
            response = StreamingHttpResponse(content_generate_stream(**common), content_type="text/event-stream")
            response["Cache-Control"] = "no-cache"
            response["X-Accel-Buffering"] = "no"
            return response
        document = content_generate(**common)
        return Response(DocumentSerializer(document_data(document)).data, status=201)


class ContentDetailApi(APIView):
    required_scopes = {"GET": "read", "PATCH": "write"}
    required_actions = {"GET": Action.USE_PRODUCT, "PATCH": Action.USE_PRODUCT}

    @extend_schema_serializer(component_name="ContentUpdate")
    class InputSerializer(StrictInputSerializer):
        title = StrictCharField(required=False, max_length=TITLE_MAX)
        output = StrictCharField(required=False, allow_blank=True, max_length=OUTPUT_MAX, trim_whitespace=False,
                                 help_text="Markdown.")

    document_id_parameter = OpenApiParameter("document_id", OpenApiTypes.INT, OpenApiParameter.PATH)

    @extend_schema(operation_id="content_retrieve", summary="One document with its versions",
                   description=scopes_note("read") + " Another tenant's id answers 404 like one that does not "
                   "exist.", parameters=[document_id_parameter],
                   responses={200: DocumentDetailSerializer, **error_responses(401, 403, 404)})
    def get(self, request, document_id: int):
        return Response(DocumentDetailSerializer(document_data(_document_or_404(document_id), versions=True)).data)

    @extend_schema(operation_id="content_update", summary="Edit a document's title or text",
                   description=scopes_note("write") + " The state the edit replaces is kept as a version (an "
                   "edit that changes nothing keeps none).", parameters=[document_id_parameter],
                   request=InputSerializer,
                   responses={200: DocumentDetailSerializer, **error_responses(400, 401, 403, 404)})
    def patch(self, request, document_id: int):
        document = _document_or_404(document_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document = content_document_update(document=document, title=data.validated_data.get("title"),
                                           output=data.validated_data.get("output"),
                                           editor=_user_or_none(request))
        return Response(DocumentDetailSerializer(document_data(document, versions=True)).data)
