"""The creator's answers to what the coach detected in a message, under
/api/v1/coach/projects/{id}/messages/{message_id}/actions/{index}/: confirm, dismiss, undo (creators.chat.apply)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response

from config.api.errors import ApiError
from config.api.schema import error_responses
from creators.api import COACH_ERRORS, PROJECT_ID, CoachApi, ProgressSerializer, _progress_data, coach_note, coach_user
from creators.chat.actions import ACTION_STATUSES, ActionKind, ActionSource
from creators.chat.apply import ActionAnswered, action_confirm, action_dismiss, action_undo
from creators.models import Project
from creators.selectors import project_get, project_progress

MESSAGE_ID = OpenApiParameter("message_id", OpenApiTypes.INT, OpenApiParameter.PATH,
                              description="A message of the project's chat.")
INDEX = OpenApiParameter("index", OpenApiTypes.INT, OpenApiParameter.PATH,
                         description="The action's position in the message's detected_actions, from 0.")


@extend_schema_serializer(component_name="CoachDetectedAction")
class DetectedActionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[ActionKind.DECISION, ActionKind.TASK, ActionKind.NEXT_STEP])
    source = serializers.ChoiceField(choices=[ActionSource.PATTERN, ActionSource.TOOL])
    confidence = serializers.CharField(help_text='A decimal string from 0 to 1, e.g. "0.9".')
    status = serializers.ChoiceField(choices=list(ACTION_STATUSES))
    category = serializers.CharField(help_text="A decision's category (empty for the other kinds).")
    value = serializers.CharField(help_text='A decision\'s value as said, e.g. "29.00 USD a month".')
    data = serializers.JSONField(help_text='A decision\'s structured value, e.g. {"amount": "29.00", "currency": '
                                           '"USD", "interval": "month"}.')
    task_id = serializers.CharField()
    task_title = serializers.CharField()
    text = serializers.CharField(help_text="A next step's words.")
    evidence = serializers.CharField(help_text="The words that triggered it.")
    record_id = serializers.IntegerField(allow_null=True, help_text="The decision or task completion it recorded.")


@extend_schema_serializer(component_name="CoachActionAnswered")
class ActionAnsweredSerializer(serializers.Serializer):
    message_id = serializers.IntegerField()
    index = serializers.IntegerField()
    action = DetectedActionSerializer()
    progress = ProgressSerializer()


class CoachActionApi(CoachApi):
    """One answer to a detected action; subclasses say which."""

    def post(self, request, project_id: int, message_id: int, index: int):
        user = coach_user(request)
        project = project_get(user=user, project_id=project_id)
        if project is None:
            raise ApiError(status_code=404, code="project_not_found", message="You have no project with this id.")
        answered = self.answer(project=project, message_id=message_id, index=index, user=user)
        progress = project_progress(project=project, today=timezone.now().date())
        return Response(ActionAnsweredSerializer({
            "message_id": answered.message.pk, "index": answered.index, "action": answered.action.as_dict(),
            "progress": _progress_data(progress)}).data)

    def answer(self, *, project: Project, message_id: int, index: int, user) -> ActionAnswered:
        raise NotImplementedError


def _action_schema(operation_id: str, summary: str, what: str):
    return extend_schema(operation_id=operation_id, summary=summary, request=None,
                         description=coach_note(what + " Refusals: project_not_found and action_not_found (404), "
                                                       "action_state_invalid and project_closed (409)."),
                         parameters=[PROJECT_ID, MESSAGE_ID, INDEX],
                         responses={200: ActionAnsweredSerializer, **error_responses(*COACH_ERRORS, 409)})


class CoachActionConfirmApi(CoachActionApi):
    @_action_schema("coach_action_confirm", "Confirm a detected action",
                    "Records the decision (confidence 1) or completes the task (method ai_confirmed) the coach put "
                    "to you (status to_confirm); a next step (status detected) is only marked confirmed.")
    def post(self, request, project_id: int, message_id: int, index: int):
        return super().post(request, project_id, message_id, index)

    def answer(self, *, project: Project, message_id: int, index: int, user) -> ActionAnswered:
        return action_confirm(project=project, message_id=message_id, index=index, user=user, now=timezone.now())


class CoachActionDismissApi(CoachActionApi):
    @_action_schema("coach_action_dismiss", "Dismiss a detected action",
                    "Nothing is recorded; allowed while the action is to_confirm or detected.")
    def post(self, request, project_id: int, message_id: int, index: int):
        return super().post(request, project_id, message_id, index)

    def answer(self, *, project: Project, message_id: int, index: int, user) -> ActionAnswered:
        return action_dismiss(project=project, message_id=message_id, index=index)


class CoachActionUndoApi(CoachActionApi):
    @_action_schema("coach_action_undo", "Undo an applied action",
                    "For an applied or confirmed action: the task's completion is undone, or the decision stops "
                    "being current and the one it replaced is current again.")
    def post(self, request, project_id: int, message_id: int, index: int):
        return super().post(request, project_id, message_id, index)

    def answer(self, *, project: Project, message_id: int, index: int, user) -> ActionAnswered:
        return action_undo(project=project, message_id=message_id, index=index, now=timezone.now())
