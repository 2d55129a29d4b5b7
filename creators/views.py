"""The coach's pages on a tenant's host, for every staff member (each has their own profile and projects): the
profile setup page, and the workspace (progress, the phase timeline, the task checklist with toggles, the decision
cards and the chat). A toggle posted by htmx is answered with the refreshed board only; without JavaScript every
form posts and redirects back to the workspace.

The chat's page routes call the same services as the API (creators.chat), with the session and its CSRF token:
a message sent with `Accept: text/event-stream` (static/js/coach-chat.js) is answered with the API's event stream,
and a refusal before the first byte with the API's JSON error and status (429 coach_daily_limit, 503
ai_unavailable with the stored message in details...); without JavaScript the page waits for the whole answer.
A chat card's confirm, dismiss or undo is answered with the message's refreshed cards and `HX-Trigger:
coach-workspace-changed`, on which the board (and the decision cards, out of band) re-read themselves."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import Action, staff_action_required
from config.api.errors import error_answer, error_json_response
from config.errors import DomainError
from creators.chat.apply import action_confirm, action_dismiss, action_undo
from creators.chat.selectors import coach_daily_limit, coach_message_list, coach_messages_sent_today
from creators.chat.services import MESSAGE_MAX_CHARS, coach_message_send
from creators.models import CoachMessage, CreatorProfile, Project
from creators.playbooks import playbook_list
from creators.selectors import profile_get, project_get, project_open_get, workspace_get
from creators.services import (
    MAX_FOLLOWERS,
    STATUS_TRANSITIONS,
    ProfileInput,
    decision_record,
    profile_save,
    project_start,
    project_update,
    task_toggle,
)
from metering.gateway.client import ai_configured

SECTION = "coach"


class ProfileForm(forms.Form):
    primary_platform = forms.ChoiceField(choices=CreatorProfile.Platform.choices, label="Primary platform")
    follower_count = forms.IntegerField(min_value=0, max_value=MAX_FOLLOWERS, label="Followers")
    engagement_rate = forms.DecimalField(min_value=0, max_value=100, max_digits=5, decimal_places=2,
                                         label="Engagement rate (%)",
                                         help_text="Likes, comments and shares per post divided by followers, "
                                                   "as a percentage.")
    niche = forms.CharField(max_length=200, label="Niche", help_text="What your content is about, e.g. home "
                                                                     "baking for beginners.")
    monthly_revenue_goal = forms.DecimalField(min_value=0, max_digits=14, decimal_places=2,
                                              label="Monthly revenue goal")
    hours_per_week = forms.IntegerField(min_value=0, max_value=168, label="Hours a week for the launch")
    audience_age_bands = forms.CharField(required=False, label="Audience age bands (optional)",
                                         help_text="Band:percent, comma-separated, e.g. 18-24:40, 25-34:35.")
    audience_top_countries = forms.CharField(required=False, label="Top countries (optional)",
                                             help_text="Country code:percent, e.g. US:55, GB:12.")
    signals = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                              label="Signals (optional)", help_text="What your audience already asks for or buys.")
    personality_notes = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                                        label="How you like to work (optional)")

    def clean_audience_age_bands(self) -> tuple[dict, ...]:
        return _shares_parse(self.cleaned_data["audience_age_bands"], key="band")

    def clean_audience_top_countries(self) -> tuple[dict, ...]:
        shares = _shares_parse(self.cleaned_data["audience_top_countries"], key="country")
        return tuple({"country": share["country"].upper(), "percent": share["percent"]} for share in shares)


class ProjectStartForm(forms.Form):
    playbook = forms.ChoiceField(choices=[], label="Playbook")
    target_launch_date = forms.DateField(required=False, label="Target launch date (optional)",
                                         widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["playbook"].choices = [(playbook.key, playbook.title) for playbook in playbook_list()]


class ProjectChangeForm(forms.Form):
    target_launch_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(choices=[("", "—")] + list(Project.Status.choices), required=False)


class DecisionForm(forms.Form):
    category = forms.SlugField(max_length=30)
    option = forms.SlugField(max_length=60)
    rationale = forms.CharField(required=False, max_length=2000)


class ChatMessageForm(forms.Form):
    content = forms.CharField(max_length=MESSAGE_MAX_CHARS)


@staff_action_required(Action.USE_PRODUCT)
@require_http_methods(["GET"])
def coach_page(request: HttpRequest) -> HttpResponse:
    profile = profile_get(user=request.user)
    project = project_open_get(user=request.user) if profile else None
    context = {"active_section": SECTION, "profile": profile, "playbooks": playbook_list()}
    if project is None:
        context["start_form"] = ProjectStartForm(initial={"playbook": "premium-community"})
        return render(request, "creators/coach.html", context)
    context.update(_board_context(project))
    context["change_form"] = ProjectChangeForm(initial={"target_launch_date": project.target_launch_date})
    context["next_statuses"] = sorted(STATUS_TRANSITIONS[project.status])
    context.update(_chat_context(request, project))
    return render(request, "creators/coach.html", context)


@staff_action_required(Action.USE_PRODUCT)
@require_http_methods(["GET", "POST"])
def profile_page(request: HttpRequest) -> HttpResponse:
    profile = profile_get(user=request.user)
    if request.method == "GET":
        return _profile_render(request, ProfileForm(initial=_profile_initial(profile)), profile=profile)
    form = ProfileForm(request.POST)
    if not form.is_valid():
        return _profile_render(request, form, profile=profile, status=400)
    try:
        # The page states the goal in the profile's currency (USD for a new one; the API can set another).
        currency = profile.currency if profile else "USD"
        profile_save(user=request.user, now=timezone.now(), data=ProfileInput(currency=currency, **form.cleaned_data))
    except DomainError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return _profile_render(request, form, profile=profile, status=error.status)
    messages.success(request, "Your creator profile is saved.")
    return redirect("section_coach")


@staff_action_required(Action.USE_PRODUCT)
@require_POST
def project_start_submit(request: HttpRequest) -> HttpResponse:
    form = ProjectStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a playbook and a valid date.")
        return redirect("section_coach")
    try:
        project_start(user=request.user, playbook_key=form.cleaned_data["playbook"],
                      target_launch_date=form.cleaned_data["target_launch_date"], now=timezone.now())
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("section_coach")


@staff_action_required(Action.USE_PRODUCT)
@require_POST
def project_change_submit(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project_or_404(request, project_id)
    form = ProjectChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a valid date and status.")
        return redirect("section_coach")
    try:
        project_update(project=project, target_launch_date=form.cleaned_data["target_launch_date"],
                       status=form.cleaned_data["status"] or None, now=timezone.now())
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The project is updated.")
    return redirect("section_coach")


@staff_action_required(Action.USE_PRODUCT)
@require_POST
def task_toggle_submit(request: HttpRequest, project_id: int, task_id: str) -> HttpResponse:
    project = _project_or_404(request, project_id)
    phase_complete = None
    try:
        toggled = task_toggle(project=project, task_id=task_id, user=request.user, now=timezone.now())
    except DomainError as error:
        if error.status == 404:
            raise Http404 from error
        messages.error(request, error.message)
        return redirect("section_coach")
    board = _board_context(project)
    if toggled.done:
        # A small celebration when this tick finished its phase.
        phase_complete = next((state.phase for state in board["workspace"].phases if state.is_complete
                               and any(task.id == toggled.task_id for task, _ in state.tasks)), None)
    if request.headers.get("HX-Request"):
        return render(request, "creators/_board.html", {**board, "phase_complete": phase_complete})
    if phase_complete:
        messages.success(request, f"Phase complete: {phase_complete.title}!")
    return redirect("section_coach")


@staff_action_required(Action.USE_PRODUCT)
@require_POST
def decision_submit(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project_or_404(request, project_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the options.")
        return redirect("section_coach")
    try:
        decision = decision_record(project=project, now=timezone.now(), **form.cleaned_data)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Decision recorded: {decision.value}.")
    return redirect("section_coach")


@staff_action_required(Action.USE_PRODUCT)
@require_http_methods(["GET"])
def board_fragment(request: HttpRequest, project_id: int) -> HttpResponse:
    """The board and the decision cards (out of band), re-read by htmx after the chat changed the project."""
    project = _project_or_404(request, project_id)
    return render(request, "creators/_board_refresh.html", _board_context(project))


@staff_action_required(Action.USE_PRODUCT)
@require_POST
def chat_message_submit(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project_or_404(request, project_id)
    streamed = "text/event-stream" in request.headers.get("Accept", "")
    form = ChatMessageForm(request.POST)
    if not form.is_valid():
        message = f"Write a message of at most {MESSAGE_MAX_CHARS} characters."
        if streamed:
            return error_json_response(400, code="invalid_request", message=message, details={"field": "content"})
        messages.error(request, message)
        return redirect("section_coach")
    try:
        stream = coach_message_send(tenant=request.tenant, project=project, user=request.user,
                                    text=form.cleaned_data["content"], created_by=request.user.email)
    except DomainError as error:
        if streamed:
            return _error_response(error)
        messages.error(request, error.message)
        return redirect("section_coach")
    if not streamed:
        for _ in stream:  # the whole answer, stored as it comes; the page then shows it
            pass
        return redirect("section_coach")
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


@staff_action_required(Action.USE_PRODUCT)
@require_http_methods(["GET"])
def message_actions_fragment(request: HttpRequest, project_id: int, message_id: int) -> HttpResponse:
    """One message's action cards, which the chat's script loads once an exchange's actions are applied."""
    project = _project_or_404(request, project_id)
    return render(request, "creators/_chat_actions.html", {"message": _message_or_404(project, message_id)})


@staff_action_required(Action.USE_PRODUCT)
@require_POST
def message_action_submit(request: HttpRequest, project_id: int, message_id: int, index: int,
                          verb: str) -> HttpResponse:
    """Confirm, dismiss or undo one detected action of a message (creators.chat.apply decides what each does)."""
    project = _project_or_404(request, project_id)
    where = {"project": project, "message_id": message_id, "index": index}
    try:
        if verb == "confirm":
            action_confirm(**where, user=request.user, now=timezone.now())
        elif verb == "dismiss":
            action_dismiss(**where)
        elif verb == "undo":
            action_undo(**where, now=timezone.now())
        else:
            raise Http404
    except DomainError as error:
        if error.status == 404:
            raise Http404 from error
        if not request.headers.get("HX-Request"):
            messages.error(request, error.message)
            return redirect("section_coach")
        # The cards as they now are (e.g. undone in another tab), saying why this one did not change; answered
        # 200 because htmx swaps only successful answers.
        response = render(request, "creators/_chat_actions.html",
                          {"message": _message_or_404(project, message_id), "action_error": error.message})
    else:
        if not request.headers.get("HX-Request"):
            return redirect("section_coach")
        response = render(request, "creators/_chat_actions.html", {"message": _message_or_404(project, message_id)})
    response["HX-Trigger"] = "coach-workspace-changed"
    return response


def _project_or_404(request: HttpRequest, project_id: int) -> Project:
    project = project_get(user=request.user, project_id=project_id)
    if project is None:
        raise Http404
    return project


def _message_or_404(project: Project, message_id: int) -> CoachMessage:
    message = coach_message_list(project=project).filter(pk=message_id).first()
    if message is None:
        raise Http404
    return message


def _error_response(error: DomainError) -> JsonResponse:
    """The API's JSON error for a refusal (config.api.errors decides the shape, status and headers)."""
    status, body, headers = error_answer(error)
    response = JsonResponse(body, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _chat_context(request: HttpRequest, project: Project) -> dict:
    limit = coach_daily_limit(tenant=request.tenant)
    sent = coach_messages_sent_today(user=request.user, now=timezone.now())
    return {"ai_available": ai_configured(), "chat_max_chars": MESSAGE_MAX_CHARS,
            "messages_left": max(0, limit - sent), "messages_per_day": limit}


def _board_context(project: Project) -> dict:
    workspace = workspace_get(project=project, today=timezone.now().date())
    current = {decision.category: decision for decision in workspace.decisions}
    recommendations = project.plan.get("recommendations", {})
    return {
        "project": project, "workspace": workspace, "progress": workspace.progress,
        # What is left of each phase, from the playbook's estimates.
        "phase_estimates": [(state, _duration_label(sum(task.estimated_minutes for task, done in state.tasks
                                                        if not done)))
                            for state in workspace.phases],
        "decision_cards": [{"decision": decision, "current": current.get(decision.category),
                            "recommendation": recommendations.get(decision.category)}
                           for decision in workspace.playbook.decisions],
        # The first decision still to make opens its card; the others stay folded.
        "open_category": next((decision.category for decision in workspace.playbook.decisions
                               if decision.category not in current), None),
    }


def _duration_label(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min" if rest else ""
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def _profile_render(request: HttpRequest, form: ProfileForm, *, profile: CreatorProfile | None,
                    status: int = 200) -> HttpResponse:
    form.fields["monthly_revenue_goal"].label = f"Monthly revenue goal ({profile.currency if profile else 'USD'})"
    return render(request, "creators/profile.html", {"active_section": SECTION, "form": form, "profile": profile},
                  status=status)


def _profile_initial(profile: CreatorProfile | None) -> dict:
    if profile is None:
        return {}
    return {
        "primary_platform": profile.primary_platform, "follower_count": profile.follower_count,
        "engagement_rate": profile.engagement_rate, "niche": profile.niche,
        "monthly_revenue_goal": profile.monthly_revenue_goal, "hours_per_week": profile.hours_per_week,
        "audience_age_bands": ", ".join(f"{row['band']}:{row['percent']}" for row in profile.audience_age_bands),
        "audience_top_countries": ", ".join(f"{row['country']}:{row['percent']}"
                                            for row in profile.audience_top_countries),
        "signals": profile.signals, "personality_notes": profile.personality_notes,
    }


def _shares_parse(text: str, *, key: str) -> tuple[dict, ...]:
    shares = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        label, _, percent = item.rpartition(":")
        if not label.strip() or not percent.strip().isdigit() or not 0 <= int(percent) <= 100:
            raise forms.ValidationError(f"Write each entry as {key}:percent, e.g. "
                                        f"{'18-24:40' if key == 'band' else 'US:55'}.")
        shares.append({key: label.strip(), "percent": int(percent)})
    return tuple(shares)
