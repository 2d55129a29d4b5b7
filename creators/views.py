"""The coach's pages on a tenant's host, for every staff member (each has their own profile and projects): the
profile setup page, and the workspace (progress, the phase timeline, the task checklist with toggles, the decision
cards, and the place the chat will take). A toggle posted by htmx is answered with the refreshed board only; without
JavaScript every form posts and redirects back to the workspace."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import Action, staff_action_required
from config.errors import DomainError
from creators.models import CreatorProfile, Project
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


def _project_or_404(request: HttpRequest, project_id: int) -> Project:
    project = project_get(user=request.user, project_id=project_id)
    if project is None:
        raise Http404
    return project


def _board_context(project: Project) -> dict:
    workspace = workspace_get(project=project, today=timezone.now().date())
    current = {decision.category: decision for decision in workspace.decisions}
    recommendations = project.plan.get("recommendations", {})
    return {
        "project": project, "workspace": workspace, "progress": workspace.progress,
        "decision_cards": [{"decision": decision, "current": current.get(decision.category),
                            "recommendation": recommendations.get(decision.category)}
                           for decision in workspace.playbook.decisions],
        # The first decision still to make opens its card; the others stay folded.
        "open_category": next((decision.category for decision in workspace.playbook.decisions
                               if decision.category not in current), None),
    }


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
