"""The chat's reads, in the current tenant's schema: what the coach's prompt is built from (one project's state,
read in a handful of queries), its recent history, a user's messages of the day (the daily limit), and the message
list the API pages through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db.models import QuerySet

from billing.selectors import entitlements_for
from creators.models import CoachMessage, CreatorProfile, Decision, Project
from creators.playbooks import Playbook, playbook_get
from creators.progress import Progress
from creators.selectors import decisions_current, project_progress, task_done_ids
from tenants.models import Tenant

# The most history a prompt is built from before its token budget trims it further (creators.chat.prompt).
HISTORY_MAX = 30


@dataclass(frozen=True)
class CoachContext:
    """The project as the coach sees it when it answers."""

    project: Project
    profile: CreatorProfile | None
    playbook: Playbook
    progress: Progress
    done_task_ids: frozenset[str]
    decisions: dict[str, Decision]  # current ones, by category


def coach_context_get(*, project: Project, today: date) -> CoachContext:
    done = task_done_ids(project=project)
    decisions = decisions_current(project=project)
    progress = project_progress(project=project, today=today, done_task_ids=done,
                                decided_categories={decision.category for decision in decisions})
    return CoachContext(project=project, profile=CreatorProfile.objects.filter(user_id=project.user_id).first(),
                        playbook=playbook_get(project.playbook_key), progress=progress, done_task_ids=frozenset(done),
                        decisions={decision.category: decision for decision in decisions})


def coach_history_get(*, project: Project, before_id: int, limit: int = HISTORY_MAX) -> list[CoachMessage]:
    """The project's messages before `before_id` (the message being answered), oldest first, at most `limit`:
    what the coach remembers of the conversation. Failed answers and empty ones said nothing and are left out."""
    newest = (CoachMessage.objects.filter(project=project, pk__lt=before_id)
              .exclude(status=CoachMessage.Status.FAILED).exclude(content="")
              .order_by("-created_at", "-id")[:limit])
    return list(reversed(newest))


def coach_daily_limit(*, tenant: Tenant) -> int:
    """The user messages a person may send a UTC day: the plan's coach_messages_per_day, else the setting."""
    limit = entitlements_for(tenant=tenant).coach_messages_per_day
    return settings.COACH_MESSAGES_PER_DAY if limit is None else limit


def coach_day_bounds(*, now: datetime) -> tuple[datetime, datetime]:
    """The UTC day `now` falls in, as [start, end)."""
    start = datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def coach_messages_sent_today(*, user, now: datetime) -> int:
    """The user's own messages since UTC midnight, on every project (coach_message_user_day_idx)."""
    start, end = coach_day_bounds(now=now)
    return CoachMessage.objects.filter(user=user, role=CoachMessage.Role.USER, created_at__gte=start,
                                       created_at__lt=end).count()


def coach_message_list(*, project: Project) -> QuerySet[CoachMessage]:
    return CoachMessage.objects.filter(project=project)
