"""The chat's reads, in the current tenant's schema: what the coach's prompt is built from (one project's state,
read in a handful of queries), its recent history, a user's messages of the day (the daily limit), and the message
list the API pages through; and for ops, the coach's cost across every tenant (each read in its own schema)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate
from django_tenants.utils import schema_context

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
              .only("id", "role", "content", "created_at").order_by("-created_at", "-id")[:limit])
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


# --- Ops: what the coach's answers cost, across tenants ---------------------------------------------------------

@dataclass(frozen=True)
class CoachCostRow:
    """The coach's answers to one person on one UTC day, in one currency."""

    tenant: Tenant
    user_email: str
    day: date
    answers: int
    input_tokens: int
    output_tokens: int
    cost: Decimal
    currency: str


@dataclass(frozen=True)
class CoachCostEntry:
    """One answer of the log."""

    tenant: Tenant
    user_email: str
    message: CoachMessage


@dataclass(frozen=True)
class CoachCostLog:
    rows: list[CoachCostRow]  # per tenant, user and day, newest day first
    per_day: list[tuple[date, str, int, Decimal]]  # (day, currency, answers, cost) over every tenant, newest first
    per_user: list[tuple[Tenant, str, str, int, Decimal]]  # (tenant, email, currency, answers, cost), dearest first
    entries: list[CoachCostEntry]  # the latest answers over every tenant, newest first


def coach_cost_log(*, tenants: list[Tenant], start: datetime, end: datetime, entries: int = 50) -> CoachCostLog:
    """The coach's answers made in [start, end) with what they cost: totals per person and per UTC day, and the
    latest answers. Each tenant's messages live in its schema, so each is read there: two queries per tenant."""
    rows: list[CoachCostRow] = []
    latest: list[CoachCostEntry] = []
    for tenant in tenants:
        with schema_context(tenant.schema_name):
            answers = CoachMessage.objects.filter(role=CoachMessage.Role.ASSISTANT, request_id__isnull=False,
                                                  created_at__gte=start, created_at__lt=end)
            grouped = (answers.annotate(day=TruncDate("created_at", tzinfo=UTC))
                       .values("user__email", "day", "currency")
                       .annotate(answers=Count("id"), input_tokens=Sum("input_tokens"),
                                 output_tokens=Sum("output_tokens"), cost=Sum("cost")))
            rows.extend(CoachCostRow(tenant=tenant, user_email=row["user__email"], day=row["day"],
                                     answers=row["answers"], input_tokens=row["input_tokens"],
                                     output_tokens=row["output_tokens"], cost=row["cost"], currency=row["currency"])
                        for row in grouped)
            latest.extend(CoachCostEntry(tenant=tenant, user_email=message.user.email, message=message)
                          for message in answers.select_related("user").order_by("-created_at", "-id")[:entries])
    rows.sort(key=lambda row: (row.day, row.tenant.slug, row.user_email), reverse=True)
    latest.sort(key=lambda entry: entry.message.created_at, reverse=True)
    return CoachCostLog(rows=rows, per_day=_per_day(rows), per_user=_per_user(rows), entries=latest[:entries])


def _per_day(rows: list[CoachCostRow]) -> list[tuple[date, str, int, Decimal]]:
    totals: dict[tuple[date, str], tuple[int, Decimal]] = {}
    for row in rows:
        answers, cost = totals.get((row.day, row.currency), (0, Decimal(0)))
        totals[(row.day, row.currency)] = (answers + row.answers, cost + row.cost)
    return [(day, currency, answers, cost) for (day, currency), (answers, cost) in sorted(totals.items(),
                                                                                          reverse=True)]


def _per_user(rows: list[CoachCostRow]) -> list[tuple[Tenant, str, str, int, Decimal]]:
    totals: dict[tuple[int, str, str], list] = {}
    for row in rows:
        total = totals.setdefault((row.tenant.pk, row.user_email, row.currency), [row.tenant, 0, Decimal(0)])
        total[1] += row.answers
        total[2] += row.cost
    return sorted(((tenant, email, currency, answers, cost)
                   for (_, email, currency), (tenant, answers, cost) in totals.items()),
                  key=lambda total: (-total[4], total[0].slug, total[1]))
