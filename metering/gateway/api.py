"""The metered AI API: Claude's Messages API (a documented subset, whole or streamed) and code generation, paid
from the tenant's AI-token wallet (metering.gateway.services)."""

from __future__ import annotations

from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Action
from config.api.schema import error_responses, scopes_note
from config.api.serializers import StrictCharField, StrictInputSerializer
from metering.gateway.client import ai_configured_check
from metering.gateway.code_generation import ai_code_generate
from metering.gateway.services import (
    AiRequest,
    ai_message_complete,
    ai_message_stream,
    model_names_active,
    model_price_active_get,
)

# Read once at import: the serializers below and the OpenAPI schema carry it as a field bound.
MAX_TOKENS_CAP = settings.AI_MAX_TOKENS_CAP
CODE_MAX_TOKENS = 4096
MAX_PROMPT_CHARS = 100_000
MAX_MESSAGES = 100
AI_ERRORS = (400, 401, 402, 403, 413, 415, 429, 502, 503, 504)


@extend_schema_serializer(component_name="AiUsage")
class UsageSerializer(serializers.Serializer):
    input_tokens = serializers.IntegerField(help_text="Input tokens not read from or written to the cache.")
    output_tokens = serializers.IntegerField()
    cache_creation_input_tokens = serializers.IntegerField()
    cache_read_input_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField(help_text="What the wallet paid: every input, cache and output token.")


@extend_schema_serializer(component_name="AiCost")
class CostSerializer(serializers.Serializer):
    amount = serializers.CharField(help_text="Exact decimal, at the model's list prices, e.g. \"0.000123\".")
    currency = serializers.CharField()


@extend_schema_serializer(component_name="AiMessageParam")
class MessageParamSerializer(StrictInputSerializer):
    role = serializers.ChoiceField(choices=["user", "assistant"])
    content = StrictCharField(max_length=MAX_PROMPT_CHARS, trim_whitespace=False)


class ModelField(StrictCharField):
    """A model id the operator allows (an active model price); the validated value is its ModelPrice."""

    def run_validation(self, data=serializers.empty):
        model = super().run_validation(data)
        if model is None:
            return None
        price = model_price_active_get(model=model)
        if price is None:
            raise serializers.ValidationError(f"Unknown model; use one of: {', '.join(model_names_active())}.")
        return price


class AiMessageCreateApi(APIView):
    required_scopes = {"POST": "ai"}
    required_actions = {"POST": Action.USE_PRODUCT}

    @extend_schema_serializer(component_name="AiMessageCreate")
    class InputSerializer(StrictInputSerializer):
        model = ModelField(max_length=100)
        system = StrictCharField(required=False, allow_blank=True, max_length=MAX_PROMPT_CHARS, trim_whitespace=False)
        messages = MessageParamSerializer(many=True, allow_empty=False, max_length=MAX_MESSAGES)
        max_tokens = serializers.IntegerField(min_value=1, max_value=MAX_TOKENS_CAP)
        temperature = serializers.FloatField(required=False, min_value=0, max_value=1)
        stream = serializers.BooleanField(required=False, default=False)

    @extend_schema_serializer(component_name="AiMessage")
    class OutputSerializer(serializers.Serializer):
        id = serializers.CharField(help_text="Anthropic's message id.")
        model = serializers.CharField()
        content = serializers.ListField(child=serializers.DictField(), help_text='[{"type": "text", "text": "..."}]')
        stop_reason = serializers.CharField(allow_null=True, help_text="end_turn, max_tokens, stop_sequence, refusal…")
        usage = UsageSerializer()
        cost = CostSerializer()

    @extend_schema(
        operation_id="ai_messages_create", summary="Send a message to Claude",
        description=scopes_note("ai") + " A subset of Anthropic's Messages API: model (one the operator allows), "
        f"system, messages (text content), max_tokens (1–{MAX_TOKENS_CAP}), temperature (0–1), stream. Before the "
        "call, max_tokens plus an estimate of the input (its UTF-8 bytes plus framing, an upper bound) is reserved "
        "from the AI-token wallet (402 insufficient_balance when it is not there); afterwards the wallet pays the "
        "real usage and gets the rest back. With \"stream\": true the answer is text/event-stream: Anthropic's "
        "events as they arrive, then `event: tollgate.usage` with usage and cost; a stream that ends early (the "
        "client leaves, the connection breaks) is charged for the text it sent, counted as UTF-8 bytes up to "
        "max_tokens. 503 ai_unavailable when the server has no Anthropic "
        "key; Anthropic's own failures answer upstream_overloaded (503), upstream_rate_limited (429), "
        "upstream_invalid_request (400), upstream_timeout (504), and cost nothing.",
        request=InputSerializer,
        responses={
            (200, "application/json"): OutputSerializer,
            (200, "text/event-stream"): OpenApiResponse(
                OpenApiTypes.STR, description='With "stream": true: server-sent events, as Anthropic sends them, '
                'then `event: tollgate.usage` (data: type, id, stop_reason, usage, cost).'),
            **error_responses(*AI_ERRORS),
        },
    )
    def post(self, request):
        ai_configured_check()  # before the body is read: without a key nothing else about the request matters
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        ai_request = AiRequest(
            tenant=request.tenant, price=values["model"], system=values.get("system", ""),
            messages=[dict(message) for message in values["messages"]], max_tokens=values["max_tokens"],
            temperature=values.get("temperature"), created_by=request.user.email,
        )
        if values["stream"]:
            stream = ai_message_stream(request=ai_request)
            response = StreamingHttpResponse(stream, content_type="text/event-stream")
            response["Cache-Control"] = "no-cache"
            response["X-Accel-Buffering"] = "no"
            return response
        completion = ai_message_complete(request=ai_request)
        message = completion.message
        return Response(self.OutputSerializer({
            "id": message.id, "model": message.model,
            "content": [{"type": "text", "text": text} for text in message.text_blocks],
            "stop_reason": message.stop_reason, **completion.settlement.as_dict(),
        }).data)


class AiCodeCreateApi(APIView):
    required_scopes = {"POST": "ai"}
    required_actions = {"POST": Action.USE_PRODUCT}

    @extend_schema_serializer(component_name="AiCodeCreate")
    class InputSerializer(StrictInputSerializer):
        description = StrictCharField(max_length=20_000, help_text="What the code should do.")
        language = StrictCharField(required=False, max_length=40, help_text="e.g. python, typescript.")
        framework = StrictCharField(required=False, max_length=60, help_text="e.g. django, react.")
        model = ModelField(required=False, max_length=100)
        max_tokens = serializers.IntegerField(required=False, min_value=1, max_value=MAX_TOKENS_CAP,
                                              default=CODE_MAX_TOKENS)

    @extend_schema_serializer(component_name="AiCode")
    class OutputSerializer(serializers.Serializer):
        code = serializers.CharField(allow_blank=True, help_text="The first fenced code block of the answer.")
        language = serializers.CharField(allow_blank=True)
        explanation = serializers.CharField(allow_blank=True, help_text="The answer's text outside that block.")
        model = serializers.CharField()
        stop_reason = serializers.CharField(allow_null=True)
        usage = UsageSerializer()
        cost = CostSerializer()

    @extend_schema(
        operation_id="ai_code_create", summary="Generate code",
        description=scopes_note("ai") + " Describe the code (language and framework optional); Claude writes it. "
        "Metered and paid from the AI-token wallet like /api/v1/ai/messages (not streamed).",
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(*AI_ERRORS)},
    )
    def post(self, request):
        ai_configured_check()  # before the body is read, as for messages
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        result = ai_code_generate(
            tenant=request.tenant, description=values["description"], language=values.get("language", ""),
            framework=values.get("framework", ""), price=values.get("model"), max_tokens=values["max_tokens"],
            created_by=request.user.email,
        )
        return Response(self.OutputSerializer({
            "code": result.code, "language": result.language, "explanation": result.explanation,
            "model": result.price.model, "stop_reason": result.completion.message.stop_reason,
            **result.completion.settlement.as_dict(),
        }).data)
