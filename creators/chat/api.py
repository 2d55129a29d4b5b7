"""The coach's chat in the API: send a message (the answer streams as server-sent events, creators.chat.services
lists them) and page through a project's messages."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers

from config.api.errors import ApiError
from config.api.pagination import ApiCursorPagination
from config.api.schema import error_responses
from config.api.serializers import StrictCharField, StrictInputSerializer
from creators.api import COACH_ERRORS, PROJECT_ID, CoachApi, coach_note, coach_user
from creators.chat.selectors import coach_message_list
from creators.chat.services import MESSAGE_MAX_CHARS, coach_message_send
from creators.models import CoachMessage, Project
from creators.selectors import project_get

SEND_ERRORS = (*COACH_ERRORS, 400, 402, 404, 409, 429, 502, 503, 504)
# One server-sent event as a reader of the stream sees it (the schema of each item of the text/event-stream).
SSE_EVENT = {"type": "object", "required": ["event", "data"],
             "properties": {"event": {"type": "string", "description": "coach.user_message, an Anthropic event, "
                                                                     "tollgate.usage, coach.actions, coach.message "
                                                                     "or error."},
                            "data": {"type": "string", "description": "The event's JSON."}}}


def _project_or_404(user, project_id: int) -> Project:
    project = project_get(user=user, project_id=project_id)
    if project is None:
        raise ApiError(status_code=404, code="project_not_found", message="You have no project with this id.")
    return project


@extend_schema_serializer(component_name="CoachChatMessage")
class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.ChoiceField(choices=CoachMessage.Role.choices)
    content = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=CoachMessage.Status.choices)
    detected_actions = serializers.ListField(child=serializers.DictField(), help_text="creators.chat.actions: "
                                             "kind, source, confidence, status and the kind's fields.")
    model = serializers.CharField(allow_blank=True)
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    cost = serializers.CharField(help_text="What the answer cost at the model's list prices (a decimal string).")
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()


def message_data(message: CoachMessage) -> dict:
    return {"id": message.pk, "role": message.role, "content": message.content, "status": message.status,
            "detected_actions": message.detected_actions, "model": message.model,
            "input_tokens": message.input_tokens, "output_tokens": message.output_tokens,
            "cost": format(message.cost, "f"), "currency": message.currency, "created_at": message.created_at}


class MessagePagination(ApiCursorPagination):
    ordering = ("-created_at", "-id")


class CoachMessageListCreateApi(CoachApi):
    pagination_class = MessagePagination

    @extend_schema_serializer(component_name="CoachMessageSend")
    class InputSerializer(StrictInputSerializer):
        content = StrictCharField(max_length=MESSAGE_MAX_CHARS, help_text="What you tell the coach.")

    @extend_schema(
        operation_id="coach_project_messages_list", summary="The project's chat, newest first",
        description=coach_note("Cursor pagination from the newest message back (next_cursor leads to older "
                               "ones); a page reads oldest-last, so reverse it to show a conversation."),
        parameters=[PROJECT_ID], responses={200: MessageSerializer(many=True), **error_responses(*COACH_ERRORS, 404)},
    )
    def get(self, request, project_id: int):
        project = _project_or_404(coach_user(request), project_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(coach_message_list(project=project), request, view=self)
        return paginator.get_paginated_response(MessageSerializer([message_data(m) for m in page], many=True).data)

    @extend_schema(
        operation_id="coach_project_messages_create", summary="Talk to the coach (the answer streams)",
        description=coach_note(
            "Stores your message and streams the coach's answer as text/event-stream: `coach.user_message` "
            "{id, created_at, detected_actions}, Anthropic's events (text in content_block_delta), the gateway's "
            "`tollgate.usage`, `coach.actions` {message_id, detected_actions} (applied: decisions and tasks "
            "recorded above COACH_AUTO_COMPLETE_CONFIDENCE, the rest to confirm) and `coach.message` {id, content, "
            "status, model, input_tokens, output_tokens, cost, currency}; `error` if the answer breaks off. Paid "
            "from the AI-token wallet under the feature `coach` (402 insufficient_balance before any byte). "
            "Refusals: coach_daily_limit (429, the plan's messages a UTC day, default 50, with Retry-After), "
            "project_not_found (404), project_closed (409), ai_unavailable (503 without an Anthropic key: the "
            "message is still stored and its decisions and tasks recorded, details.user_message). Not idempotent."),
        parameters=[PROJECT_ID], request=InputSerializer,
        responses={(200, "text/event-stream"): OpenApiResponse(SSE_EVENT, description="Server-sent events "
                                                               "(above), each an event name and its JSON data."),
                   **error_responses(*SEND_ERRORS)},
    )
    def post(self, request, project_id: int):
        user = coach_user(request)  # an API key's creator is looked up once
        project = _project_or_404(user, project_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # CharField trims and refuses a blank message (400 with the field).
        stream = coach_message_send(tenant=request.tenant, project=project, user=user,
                                    text=data.validated_data["content"],
                                    created_by=request.user.email)
        response = StreamingHttpResponse(stream, content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response
