"""The creator coach in the API: the caller's creator profile, the playbooks, and projects (start, read the
active one with everything the workspace shows, move the target date or the status, tick tasks, record decisions).

The coach is personal: a profile and its projects belong to one staff member. Signed-in staff act as themselves;
an API key (which belongs to the tenant, not to a person) needs the `coach` scope and acts as the staff member
who created it, while that member is still active with a role that may use the product. A key created by ops, a
command or another key has nobody to act as and is refused (403 coach_user_unknown).
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Action
from config.api.errors import ApiError
from config.api.idempotency import idempotent_response
from config.api.schema import IDEMPOTENCY_KEY_HEADER, error_responses
from config.api.serializers import StrictCharField, StrictInputSerializer
from config.money import Money, money_round, money_to_api
from creators.models import CoachMessage, CreatorProfile, Decision, Project
from creators.playbooks import Playbook, playbook_list
from creators.selectors import (
    Workspace,
    coach_user_for_api_key_creator,
    profile_get,
    project_active_get,
    project_get,
    project_progress,
    workspace_get,
)
from creators.services import (
    MAX_FOLLOWERS,
    ProfileInput,
    decision_record,
    profile_save,
    project_start,
    project_update,
    task_toggle,
)
from tenants.authentication import ApiKeyPrincipal

SCOPE = "coach"
COACH_ERRORS = (401, 403)
PROJECT_ID = OpenApiParameter("project_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The project's id.")
TASK_ID = OpenApiParameter("task_id", OpenApiTypes.STR, OpenApiParameter.PATH,
                           description="A task id of the project's playbook, e.g. audience-survey.")


def coach_note(what: str) -> str:
    return (f"API keys need the `{SCOPE}` scope and act as the staff member who created the key (403 "
            "coach_user_unknown when there is none); signed-in staff act as themselves. " + what)


def coach_user(request):
    """The staff member the request acts as on the coach (module docstring)."""
    if isinstance(request.user, ApiKeyPrincipal):
        user = coach_user_for_api_key_creator(created_by=request.user.api_key.created_by)
        if user is None:
            raise ApiError(status_code=403, code="coach_user_unknown",
                           message="This API key acts as the staff member who created it, and that person is not "
                                   "an active member of the workspace. Create the key while signed in as the "
                                   "creator whose coach it should use.")
        return user
    return request.user


class CoachApi(APIView):
    required_scopes = {"GET": SCOPE, "PUT": SCOPE, "PATCH": SCOPE, "POST": SCOPE}
    required_actions = {"GET": Action.USE_PRODUCT, "PUT": Action.USE_PRODUCT, "PATCH": Action.USE_PRODUCT,
                        "POST": Action.USE_PRODUCT}


def _project_or_404(request, project_id: int) -> Project:
    project = project_get(user=coach_user(request), project_id=project_id)
    if project is None:
        raise ApiError(status_code=404, code="project_not_found", message="You have no project with this id.")
    return project


# --- Shared serializers ------------------------------------------------------------------------------------------

@extend_schema_serializer(component_name="CoachMoney")
class MoneySerializer(serializers.Serializer):
    amount = serializers.CharField(help_text="A decimal string, e.g. \"29.00\" (never a JSON number).")
    currency = serializers.CharField(help_text="ISO 4217, e.g. USD.")


class MoneyInputSerializer(StrictInputSerializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, max_value=1_000_000_000,
                                      coerce_to_string=True)
    currency = serializers.RegexField(r"^[A-Z]{3}$", help_text="ISO 4217, e.g. USD.")


class AgeBandSerializer(StrictInputSerializer):
    band = StrictCharField(max_length=20, help_text="e.g. 18-24.")
    percent = serializers.IntegerField(min_value=0, max_value=100)


class CountryShareSerializer(StrictInputSerializer):
    country = serializers.RegexField(r"^[A-Z]{2}$", help_text="ISO 3166-1 alpha-2, e.g. US.")
    percent = serializers.IntegerField(min_value=0, max_value=100)


@extend_schema_serializer(component_name="CoachTimeline")
class TimelineSerializer(serializers.Serializer):
    percent = serializers.IntegerField(allow_null=True, help_text="Days elapsed against the days to the target.")
    status = serializers.ChoiceField(choices=["on_track", "behind", "no_target", "done"])
    label = serializers.CharField(help_text='e.g. "on track", "behind by 3 days".')
    days_behind = serializers.IntegerField()
    days_elapsed = serializers.IntegerField()
    days_to_launch = serializers.IntegerField(allow_null=True)


@extend_schema_serializer(component_name="CoachProgress")
class ProgressSerializer(serializers.Serializer):
    overall = serializers.IntegerField(help_text="Percent of the playbook's tasks done.")
    planning = serializers.IntegerField(help_text="Percent of the playbook's decisions made.")
    execution = serializers.IntegerField(help_text="Percent of the execution phases' tasks done.")
    timeline = TimelineSerializer()
    tasks_done = serializers.IntegerField()
    tasks_total = serializers.IntegerField()
    decisions_made = serializers.IntegerField()
    decisions_total = serializers.IntegerField()
    current_phase = serializers.CharField(allow_null=True)


@extend_schema_serializer(component_name="CoachProject")
class ProjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    playbook = serializers.CharField(source="playbook_key")
    playbook_version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Project.Status.choices)
    target_launch_date = serializers.DateField(allow_null=True)
    plan = serializers.JSONField(help_text="The playbook customised for the profile: recommendations, phase dates.")
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(component_name="CoachProjectWithProgress")
class ProjectWithProgressSerializer(serializers.Serializer):
    project = ProjectSerializer()
    progress = ProgressSerializer()


@extend_schema_serializer(component_name="CoachOption")
class OptionSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()
    guidance = serializers.CharField()
    pros = serializers.ListField(child=serializers.CharField())
    cons = serializers.ListField(child=serializers.CharField())


@extend_schema_serializer(component_name="CoachDecisionRecorded")
class DecisionSerializer(serializers.Serializer):
    category = serializers.CharField()
    value = serializers.CharField()
    option = serializers.CharField(source="data.option", allow_null=True, default=None)
    rationale = serializers.CharField()
    confidence = serializers.DecimalField(max_digits=4, decimal_places=3, coerce_to_string=True)
    source = serializers.ChoiceField(choices=Decision.Source.choices)
    created_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="CoachPlaybookTask")
class TaskSerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    what = serializers.CharField()
    why = serializers.CharField()
    estimated_minutes = serializers.IntegerField()
    estimated_cost = MoneySerializer()
    depends_on_decision = serializers.CharField(allow_null=True)
    done_when = serializers.CharField()


@extend_schema_serializer(component_name="CoachPlaybookDecision")
class PlaybookDecisionSerializer(serializers.Serializer):
    category = serializers.CharField()
    question = serializers.CharField()
    guidance = serializers.CharField()
    profile_informs = serializers.CharField()
    options = OptionSerializer(many=True)


@extend_schema_serializer(component_name="CoachPlaybookPhase")
class PlaybookPhaseSerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    kind = serializers.ChoiceField(choices=["planning", "execution"])
    duration_days = serializers.IntegerField()
    tasks = TaskSerializer(many=True)


@extend_schema_serializer(component_name="CoachPlaybook")
class PlaybookSerializer(serializers.Serializer):
    key = serializers.CharField()
    version = serializers.IntegerField()
    title = serializers.CharField()
    summary = serializers.CharField()
    phases = PlaybookPhaseSerializer(many=True)
    decisions = PlaybookDecisionSerializer(many=True)


def _task_data(task, currency: str) -> dict:
    return {"id": task.id, "title": task.title, "what": task.what, "why": task.why,
            "estimated_minutes": task.estimated_minutes,
            "estimated_cost": {"amount": format(task.estimated_cost, "f"), "currency": currency},
            "depends_on_decision": task.depends_on_decision, "done_when": task.done_when}


def _option_data(option) -> dict:
    return {"value": option.value, "label": option.label, "guidance": option.guidance, "pros": list(option.pros),
            "cons": list(option.cons)}


def _playbook_data(playbook: Playbook) -> dict:
    return {
        "key": playbook.key, "version": playbook.version, "title": playbook.title, "summary": playbook.summary,
        "phases": [{"id": phase.id, "title": phase.title, "summary": phase.summary, "kind": phase.kind,
                    "duration_days": phase.duration_days,
                    "tasks": [_task_data(task, playbook.currency) for task in playbook.tasks_of(phase.id)]}
                   for phase in playbook.phases],
        "decisions": [{"category": decision.category, "question": decision.question, "guidance": decision.guidance,
                       "profile_informs": decision.profile_informs,
                       "options": [_option_data(option) for option in decision.options]}
                      for decision in playbook.decisions],
    }


def _progress_data(progress) -> dict:
    timeline = progress.timeline
    return {"overall": progress.overall, "planning": progress.planning, "execution": progress.execution,
            "timeline": {"percent": timeline.percent, "status": timeline.status, "label": timeline.label,
                         "days_behind": timeline.days_behind, "days_elapsed": timeline.days_elapsed,
                         "days_to_launch": timeline.days_to_launch},
            "tasks_done": progress.tasks_done, "tasks_total": progress.tasks_total,
            "decisions_made": progress.decisions_made, "decisions_total": progress.decisions_total,
            "current_phase": progress.current_phase}


def _project_with_progress(project: Project) -> dict:
    progress = project_progress(project=project, today=timezone.now().date())
    return ProjectWithProgressSerializer({"project": project, "progress": _progress_data(progress)}).data


# --- Profile -----------------------------------------------------------------------------------------------------

class CoachProfileApi(CoachApi):
    @extend_schema_serializer(component_name="CoachProfileChange")
    class InputSerializer(StrictInputSerializer):
        primary_platform = serializers.ChoiceField(choices=CreatorProfile.Platform.choices)
        follower_count = serializers.IntegerField(min_value=0, max_value=MAX_FOLLOWERS)
        engagement_rate = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100,
                                                   help_text="Percent of followers who engage with a typical post.")
        niche = StrictCharField(max_length=200)
        monthly_revenue_goal = MoneyInputSerializer()
        hours_per_week = serializers.IntegerField(min_value=0, max_value=168)
        audience_age_bands = AgeBandSerializer(many=True, required=False, max_length=10)
        audience_top_countries = CountryShareSerializer(many=True, required=False, max_length=10)
        signals = StrictCharField(max_length=2000, required=False, allow_blank=True)
        personality_notes = StrictCharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema_serializer(component_name="CoachProfile")
    class OutputSerializer(serializers.Serializer):
        primary_platform = serializers.ChoiceField(choices=CreatorProfile.Platform.choices)
        follower_count = serializers.IntegerField()
        engagement_rate = serializers.DecimalField(max_digits=5, decimal_places=2, coerce_to_string=True)
        niche = serializers.CharField()
        monthly_revenue_goal = MoneySerializer()
        hours_per_week = serializers.IntegerField()
        audience_age_bands = AgeBandSerializer(many=True)
        audience_top_countries = CountryShareSerializer(many=True)
        signals = serializers.CharField()
        personality_notes = serializers.CharField()
        updated_at = serializers.DateTimeField()

    @extend_schema(operation_id="coach_profile_retrieve", summary="Your creator profile",
                   description=coach_note("404 profile_not_found until it is set up."),
                   responses={200: OutputSerializer, **error_responses(*COACH_ERRORS)})
    def get(self, request):
        profile = profile_get(user=coach_user(request))
        if profile is None:
            raise ApiError(status_code=404, code="profile_not_found", message="Set up your creator profile first.")
        return Response(self._data(profile))

    @extend_schema(operation_id="coach_profile_update", summary="Set up or replace your creator profile",
                   description=coach_note("The coach computes the plan and the pricing recommendation from it. "
                                          "Refusals: profile_invalid (400)."),
                   request=InputSerializer, responses={200: OutputSerializer, **error_responses(*COACH_ERRORS)})
    def put(self, request):
        user = coach_user(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        goal = values.pop("monthly_revenue_goal")
        profile = profile_save(user=user, now=timezone.now(), data=ProfileInput(
            monthly_revenue_goal=goal["amount"], currency=goal["currency"],
            audience_age_bands=tuple(dict(row) for row in values.pop("audience_age_bands", [])),
            audience_top_countries=tuple(dict(row) for row in values.pop("audience_top_countries", [])),
            **values))
        return Response(self._data(profile))

    def _data(self, profile: CreatorProfile) -> dict:
        return self.OutputSerializer({
            **{name: getattr(profile, name) for name in (
                "primary_platform", "follower_count", "engagement_rate", "niche", "hours_per_week",
                "audience_age_bands", "audience_top_countries", "signals", "personality_notes", "updated_at")},
            "monthly_revenue_goal": money_to_api(money_round(Money(profile.monthly_revenue_goal,
                                                                   profile.currency))),
        }).data


# --- Playbooks ---------------------------------------------------------------------------------------------------

class CoachPlaybookListApi(CoachApi):
    @extend_schema(operation_id="coach_playbooks_list", summary="Playbooks",
                   description=coach_note("Every kit a project can start from, with its phases, tasks and "
                                          "decisions."),
                   responses={200: PlaybookSerializer(many=True), **error_responses(*COACH_ERRORS)})
    def get(self, request):
        coach_user(request)
        return Response(PlaybookSerializer([_playbook_data(playbook) for playbook in playbook_list()],
                                           many=True).data)


# --- Projects ----------------------------------------------------------------------------------------------------

class CoachProjectCreateApi(CoachApi):
    @extend_schema_serializer(component_name="CoachProjectStart")
    class InputSerializer(StrictInputSerializer):
        playbook = serializers.ChoiceField(choices=[], help_text="A playbook key, e.g. premium-community.")
        target_launch_date = serializers.DateField(required=False, help_text="Default: the playbook's durations "
                                                                             "(doubled under 5 hours a week).")
        name = StrictCharField(max_length=200, required=False, allow_blank=True)

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["playbook"].choices = sorted(playbook.key for playbook in playbook_list())

    @extend_schema(operation_id="coach_projects_create", summary="Start a project on a playbook",
                   description=coach_note("One active project per person: refused with project_active_exists "
                                          "(409) while one is active. The plan is customised for your profile "
                                          "(profile_missing, 409, without one) and the coach's welcome is the "
                                          "first message. Refusals: project_invalid (400)."),
                   parameters=[IDEMPOTENCY_KEY_HEADER], request=InputSerializer,
                   responses={201: ProjectWithProgressSerializer, **error_responses(*COACH_ERRORS, 409)})
    def post(self, request):
        user = coach_user(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data

        def start() -> Response:
            project = project_start(user=user, playbook_key=values["playbook"], now=timezone.now(),
                                    target_launch_date=values.get("target_launch_date"), name=values.get("name", ""))
            return Response(_project_with_progress(project), status=201)

        return idempotent_response(request, execute=start)


@extend_schema_serializer(component_name="CoachWorkspaceTask")
class WorkspaceTaskSerializer(TaskSerializer):
    done = serializers.BooleanField()


@extend_schema_serializer(component_name="CoachWorkspacePhase")
class WorkspacePhaseSerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    kind = serializers.ChoiceField(choices=["planning", "execution"])
    starts_on = serializers.DateField(allow_null=True)
    ends_on = serializers.DateField(allow_null=True)
    is_current = serializers.BooleanField(help_text="The first phase with a task left.")
    tasks = WorkspaceTaskSerializer(many=True)


@extend_schema_serializer(component_name="CoachWorkspaceDecision")
class WorkspaceDecisionSerializer(PlaybookDecisionSerializer):
    current = DecisionSerializer(allow_null=True)
    recommendation = serializers.JSONField(allow_null=True, help_text="Computed from your profile when the project "
                                                                      "started, e.g. the pricing decision's prices.")


@extend_schema_serializer(component_name="CoachMessageSummary")
class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.ChoiceField(choices=CoachMessage.Role.choices)
    content = serializers.CharField()
    status = serializers.ChoiceField(choices=CoachMessage.Status.choices)
    created_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="CoachPlaybookRef")
class PlaybookRefSerializer(serializers.Serializer):
    key = serializers.CharField()
    version = serializers.IntegerField()
    title = serializers.CharField()


@extend_schema_serializer(component_name="CoachWorkspace")
class WorkspaceSerializer(serializers.Serializer):
    project = ProjectSerializer()
    playbook = PlaybookRefSerializer()
    phases = WorkspacePhaseSerializer(many=True)
    decisions = WorkspaceDecisionSerializer(many=True)
    progress = ProgressSerializer()
    messages = MessageSerializer(many=True)


def workspace_data(workspace: Workspace) -> dict:
    """The workspace as JSON: the API's answer (and the workspace page's initial state)."""
    playbook, current = workspace.playbook, workspace.progress.current_phase
    decisions = {decision.category: decision for decision in workspace.decisions}
    recommendations = workspace.project.plan.get("recommendations", {})
    return WorkspaceSerializer({
        "project": workspace.project,
        "playbook": {"key": playbook.key, "version": playbook.version, "title": playbook.title},
        "phases": [{"id": state.phase.id, "title": state.phase.title, "summary": state.phase.summary,
                    "kind": state.phase.kind, "starts_on": state.starts_on, "ends_on": state.ends_on,
                    "is_current": state.phase.id == current,
                    "tasks": [{**_task_data(task, playbook.currency), "done": done} for task, done in state.tasks]}
                   for state in workspace.phases],
        "decisions": [{"category": decision.category, "question": decision.question, "guidance": decision.guidance,
                       "profile_informs": decision.profile_informs,
                       "options": [_option_data(option) for option in decision.options],
                       "current": decisions.get(decision.category),
                       "recommendation": recommendations.get(decision.category)}
                      for decision in playbook.decisions],
        "progress": _progress_data(workspace.progress),
        "messages": workspace.messages,
    }).data


class CoachProjectActiveApi(CoachApi):
    @extend_schema(operation_id="coach_projects_active_retrieve", summary="Your active project, all of it",
                   description=coach_note("Everything the workspace shows in one answer: the project, its "
                                          "playbook's phases and tasks with their done state, the decisions "
                                          "(current value, options, recommendation), progress and the recent "
                                          "messages. 404 no_active_project without one."),
                   responses={200: WorkspaceSerializer, **error_responses(*COACH_ERRORS)})
    def get(self, request):
        project = project_active_get(user=coach_user(request))
        if project is None:
            raise ApiError(status_code=404, code="no_active_project", message="You have no active project.")
        return Response(workspace_data(workspace_get(project=project, today=timezone.now().date())))


class CoachProjectDetailApi(CoachApi):
    @extend_schema_serializer(component_name="CoachProjectChange")
    class InputSerializer(StrictInputSerializer):
        target_launch_date = serializers.DateField(required=False)
        status = serializers.ChoiceField(choices=Project.Status.choices, required=False,
                                         help_text="active <-> paused; active -> completed or abandoned; paused -> "
                                                   "abandoned. Completed and abandoned are final.")

    @extend_schema(operation_id="coach_projects_retrieve", summary="A project of yours with its progress",
                   description=coach_note("404 project_not_found for an id that is not yours."),
                   parameters=[PROJECT_ID],
                   responses={200: ProjectWithProgressSerializer, **error_responses(*COACH_ERRORS)})
    def get(self, request, project_id: int):
        return Response(_project_with_progress(_project_or_404(request, project_id)))

    @extend_schema(operation_id="coach_projects_partial_update", summary="Move the target date or the status",
                   description=coach_note("The plan's phase dates follow the target date. Refusals: "
                                          "project_invalid (400), project_not_found (404), "
                                          "project_status_transition_invalid, project_active_exists and "
                                          "project_closed (409)."),
                   parameters=[PROJECT_ID], request=InputSerializer,
                   responses={200: ProjectWithProgressSerializer, **error_responses(*COACH_ERRORS, 409)})
    def patch(self, request, project_id: int):
        project = _project_or_404(request, project_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target: date | None = data.validated_data.get("target_launch_date")
        updated = project_update(project=project, target_launch_date=target,
                                 status=data.validated_data.get("status"), now=timezone.now())
        return Response(_project_with_progress(updated))


class CoachTaskToggleApi(CoachApi):
    @extend_schema_serializer(component_name="CoachTaskToggled")
    class OutputSerializer(serializers.Serializer):
        task_id = serializers.CharField()
        done = serializers.BooleanField(help_text="Whether the task is done after this toggle.")
        progress = ProgressSerializer()

    @extend_schema(operation_id="coach_project_task_toggle", summary="Tick or untick a task",
                   description=coach_note("Completes the task, or undoes its completion when it is done (the "
                                          "history is kept). Send an Idempotency-Key so that a retry does not "
                                          "toggle twice. Refusals: task_unknown and project_not_found (404), "
                                          "project_closed (409)."),
                   parameters=[PROJECT_ID, TASK_ID, IDEMPOTENCY_KEY_HEADER], request=None,
                   responses={200: OutputSerializer, **error_responses(*COACH_ERRORS, 409)})
    def post(self, request, project_id: int, task_id: str):
        project = _project_or_404(request, project_id)
        user = coach_user(request)

        def toggle() -> Response:
            toggled = task_toggle(project=project, task_id=task_id, user=user, now=timezone.now())
            progress = project_progress(project=project, today=timezone.now().date())
            return Response(self.OutputSerializer({"task_id": toggled.task_id, "done": toggled.done,
                                                   "progress": _progress_data(progress)}).data)

        return idempotent_response(request, execute=toggle)


class CoachDecisionCreateApi(CoachApi):
    @extend_schema_serializer(component_name="CoachDecisionChoice")
    class InputSerializer(StrictInputSerializer):
        category = StrictCharField(max_length=30, help_text="A decision category of the playbook, e.g. pricing.")
        option = StrictCharField(max_length=60, help_text="One of the decision's option values.")
        rationale = StrictCharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(operation_id="coach_project_decisions_create", summary="Record a decision",
                   description=coach_note("Chosen from the playbook's options; supersedes the current decision in "
                                          "the category (kept in the history). Refusals: decision_invalid (400), "
                                          "project_not_found (404), project_closed (409)."),
                   parameters=[PROJECT_ID, IDEMPOTENCY_KEY_HEADER], request=InputSerializer,
                   responses={201: DecisionSerializer, **error_responses(*COACH_ERRORS, 409)})
    def post(self, request, project_id: int):
        project = _project_or_404(request, project_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        return idempotent_response(request, execute=lambda: Response(DecisionSerializer(decision_record(
            project=project, category=values["category"], option=values["option"],
            rationale=values.get("rationale", ""), now=timezone.now())).data, status=201))
