"""The coach's reads, always for one staff user in the current tenant's schema: a project is only ever found
through its owner, so another member's id answers "not found" like an id that does not exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet
from django_tenants.utils import schema_context

from accounts.permissions import Action, user_can
from accounts.selectors import member_list
from creators.models import CoachMessage, CreatorProfile, Decision, Project, TaskCompletion
from creators.playbooks import Phase, Playbook, Task, playbook_get
from creators.progress import Progress, progress_compute
from tenants.models import Tenant

RECENT_MESSAGES = 20


def profile_get(*, user) -> CreatorProfile | None:
    return CreatorProfile.objects.filter(user=user).first()


def project_get(*, user, project_id: int) -> Project | None:
    return Project.objects.filter(user=user, pk=project_id).first()


def project_active_get(*, user) -> Project | None:
    return Project.objects.filter(user=user, status=Project.Status.ACTIVE).first()


def project_open_get(*, user) -> Project | None:
    """The project the workspace shows: the active one, else the last paused one (so it can be resumed)."""
    return (project_active_get(user=user)
            or Project.objects.filter(user=user, status=Project.Status.PAUSED).order_by("-updated_at", "-id").first())


def project_list(*, user) -> QuerySet[Project]:
    return Project.objects.filter(user=user)


def task_done_ids(*, project: Project) -> set[str]:
    return set(TaskCompletion.objects.filter(project=project, undone_at__isnull=True)
               .values_list("task_id", flat=True))


def decisions_current(*, project: Project) -> list[Decision]:
    return list(Decision.objects.filter(project=project, is_current=True).order_by("category"))


def decision_history(*, project: Project, category: str) -> QuerySet[Decision]:
    return Decision.objects.filter(project=project, category=category)


def messages_recent(*, project: Project, limit: int = RECENT_MESSAGES) -> list[CoachMessage]:
    newest = CoachMessage.objects.filter(project=project).order_by("-created_at", "-id")[:limit]
    return list(reversed(newest))


def project_progress(*, project: Project, today: date, done_task_ids: set[str] | None = None,
                     decided_categories: set[str] | None = None) -> Progress:
    if done_task_ids is None:
        done_task_ids = task_done_ids(project=project)
    if decided_categories is None:
        decided_categories = {decision.category for decision in decisions_current(project=project)}
    return progress_compute(playbook=playbook_get(project.playbook_key), done_task_ids=done_task_ids,
                            decided_categories=decided_categories, started_on=project.created_at.date(),
                            target_launch_date=project.target_launch_date, today=today)


@dataclass(frozen=True)
class PhaseState:
    phase: Phase
    tasks: list[tuple[Task, bool]]  # each task of the phase and whether it is done
    starts_on: str | None
    ends_on: str | None

    @property
    def done_count(self) -> int:
        return sum(1 for _, done in self.tasks if done)

    @property
    def is_complete(self) -> bool:
        return self.done_count == len(self.tasks)


@dataclass(frozen=True)
class Workspace:
    """Everything the workspace page and GET /api/v1/coach/projects/active show, read once."""

    project: Project
    playbook: Playbook
    phases: list[PhaseState]
    decisions: list[Decision]
    progress: Progress
    messages: list[CoachMessage]


def workspace_get(*, project: Project, today: date) -> Workspace:
    # The playbook as loaded now (a project records the version it started on; README: keep task ids stable).
    playbook = playbook_get(project.playbook_key)
    done = task_done_ids(project=project)
    decisions = decisions_current(project=project)
    dates = {phase["id"]: phase for phase in project.plan.get("phases", [])}
    phases = [PhaseState(phase=phase, tasks=[(task, task.id in done) for task in playbook.tasks_of(phase.id)],
                         starts_on=dates.get(phase.id, {}).get("starts_on"),
                         ends_on=dates.get(phase.id, {}).get("ends_on"))
              for phase in playbook.phases]
    progress = project_progress(project=project, today=today, done_task_ids=done,
                                decided_categories={decision.category for decision in decisions})
    return Workspace(project=project, playbook=playbook, phases=phases, decisions=decisions, progress=progress,
                     messages=messages_recent(project=project))


def coach_user_for_api_key_creator(*, created_by: str):
    """The staff member an API key acts as on the coach: its creator, while still an active member whose role may
    use the product. None for keys made by ops, a command or another key, or whose creator has left."""
    user = member_list().filter(email__iexact=created_by).first() if "@" in created_by else None
    return user if user is not None and user_can(user, Action.USE_PRODUCT) else None


# --- Ops admin: one tenant's coach, read in its schema -------------------------------------------------------------

@dataclass(frozen=True)
class CoachProjectRow:
    project: Project
    user_email: str
    progress: Progress
    decisions: list[Decision]  # current ones


@dataclass(frozen=True)
class TenantCoach:
    tenant: Tenant
    profiles: list[CreatorProfile]
    projects: list[CoachProjectRow]


@dataclass(frozen=True)
class CoachProjectRecord:
    tenant: Tenant
    row: CoachProjectRow
    decisions: list[Decision]  # every one, superseded too, newest first
    completions: list[TaskCompletion]  # undone ones too
    messages: list[CoachMessage]


def coach_overview_of(*, tenant: Tenant, today: date, limit: int = 100) -> TenantCoach:
    """For the ops admin on the public host: a tenant's profiles and latest projects with their progress, read
    inside its schema in four queries (everything the page shows is loaded before the schema is left)."""
    with schema_context(tenant.schema_name):
        profiles = list(CreatorProfile.objects.select_related("user").order_by("-updated_at")[:limit])
        projects = list(Project.objects.select_related("user").order_by("-created_at", "-id")[:limit])
        rows = _project_rows(projects, today=today)
    return TenantCoach(tenant=tenant, profiles=profiles, projects=rows)


def coach_project_record_of(*, tenant: Tenant, project_id: int, today: date) -> CoachProjectRecord | None:
    """One project of the tenant with its full history and chat transcript (ops admin, read only)."""
    with schema_context(tenant.schema_name):
        project = Project.objects.select_related("user").filter(pk=project_id).first()
        if project is None:
            return None
        [row] = _project_rows([project], today=today)
        decisions = list(Decision.objects.filter(project=project).order_by("-created_at", "-id"))
        completions = list(TaskCompletion.objects.filter(project=project).select_related("completed_by")
                           .order_by("-completed_at", "-id"))
        messages = list(CoachMessage.objects.filter(project=project).order_by("created_at", "id"))
    return CoachProjectRecord(tenant=tenant, row=row, decisions=decisions, completions=completions,
                              messages=messages)


def _project_rows(projects: list[Project], *, today: date) -> list[CoachProjectRow]:
    done: dict[int, set[str]] = {}
    completions = TaskCompletion.objects.filter(project__in=projects, undone_at__isnull=True)
    for project_id, task_id in completions.values_list("project_id", "task_id"):
        done.setdefault(project_id, set()).add(task_id)
    current: dict[int, list[Decision]] = {}
    for decision in Decision.objects.filter(project__in=projects, is_current=True).order_by("category"):
        current.setdefault(decision.project_id, []).append(decision)
    return [CoachProjectRow(
        project=project, user_email=project.user.email,
        progress=project_progress(project=project, today=today, done_task_ids=done.get(project.pk, set()),
                                  decided_categories={decision.category for decision in current.get(project.pk, [])}),
        decisions=current.get(project.pk, []),
    ) for project in projects]
