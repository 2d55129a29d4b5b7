"""The coach's writes: a creator's profile, projects started from a playbook, tasks ticked and unticked, decisions
recorded and superseded. Everything runs in the current tenant's schema (the request's), for one staff user.

The database has the last word on the two "only one" rules (one active project per user, one current decision per
category): the services check first for a clear message and turn the constraint's IntegrityError, which a
concurrent request can still meet, into the same domain error.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from config.errors import DomainError
from config.money import Money
from creators.models import CoachMessage, CreatorProfile, Decision, Project, TaskCompletion
from creators.playbooks import Decision as PlaybookDecision
from creators.playbooks import Option as PlaybookOption
from creators.playbooks import Playbook, playbook_get
from creators.recommendations import community_pricing

logger = logging.getLogger(__name__)

MAX_FOLLOWERS = 10_000_000_000
MAX_GOAL = Decimal("1000000000")
HOURS_IN_A_WEEK = 168
# Below this many hours a week, the playbook's default durations are doubled (its timeline decision says why).
FEW_HOURS_PER_WEEK = 5
# Statuses a project may move to from each status; completed and abandoned projects are closed for good.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    Project.Status.ACTIVE: frozenset({Project.Status.PAUSED, Project.Status.COMPLETED, Project.Status.ABANDONED}),
    Project.Status.PAUSED: frozenset({Project.Status.ACTIVE, Project.Status.ABANDONED}),
    Project.Status.COMPLETED: frozenset(),
    Project.Status.ABANDONED: frozenset(),
}
OPEN_STATUSES = frozenset({Project.Status.ACTIVE, Project.Status.PAUSED})


class CoachError(DomainError):
    code = "coach_error"


class CreatorProfileInvalid(CoachError):
    code = "profile_invalid"
    status = 400


class CreatorProfileMissing(CoachError):
    code = "profile_missing"
    status = 409


class ProjectActiveExists(CoachError):
    code = "project_active_exists"
    status = 409


class ProjectInvalid(CoachError):
    code = "project_invalid"
    status = 400


class ProjectStatusTransitionInvalid(CoachError):
    code = "project_status_transition_invalid"
    status = 409


class ProjectClosed(CoachError):
    code = "project_closed"
    status = 409


class TaskUnknown(CoachError):
    code = "task_unknown"
    status = 404


class DecisionInvalid(CoachError):
    code = "decision_invalid"
    status = 400


# --- Profile -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProfileInput:
    primary_platform: str
    follower_count: int
    engagement_rate: Decimal
    niche: str
    monthly_revenue_goal: Decimal
    hours_per_week: int
    currency: str = "USD"
    audience_age_bands: tuple[dict[str, Any], ...] = ()
    audience_top_countries: tuple[dict[str, Any], ...] = ()
    signals: str = ""
    personality_notes: str = ""


def profile_validate(data: ProfileInput) -> None:
    """CreatorProfileInvalid naming the first field at fault. The same limits are check constraints in the database;
    this gives the person a sentence instead of an IntegrityError."""
    if data.primary_platform not in CreatorProfile.Platform.values:
        raise CreatorProfileInvalid("Choose one of the listed platforms.", field="primary_platform")
    if not 0 <= data.follower_count <= MAX_FOLLOWERS:
        raise CreatorProfileInvalid("Followers must be 0 or more.", field="follower_count")
    if not Decimal(0) <= data.engagement_rate <= Decimal(100):
        raise CreatorProfileInvalid("Engagement is a percentage from 0 to 100.", field="engagement_rate")
    if not data.niche.strip():
        raise CreatorProfileInvalid("Say what your content is about.", field="niche")
    if not Decimal(0) <= data.monthly_revenue_goal <= MAX_GOAL:
        raise CreatorProfileInvalid("The monthly revenue goal must be 0 or more.", field="monthly_revenue_goal")
    if not 0 <= data.hours_per_week <= HOURS_IN_A_WEEK:
        raise CreatorProfileInvalid("Hours per week go from 0 to 168.", field="hours_per_week")
    _shares_validate(data.audience_age_bands, key="band", field="audience_age_bands")
    _shares_validate(data.audience_top_countries, key="country", field="audience_top_countries")


@transaction.atomic
def profile_save(*, user, data: ProfileInput, now: datetime) -> CreatorProfile:
    """Create or replace the user's profile (one per user)."""
    profile_validate(data)
    fields = {
        "primary_platform": data.primary_platform, "follower_count": data.follower_count,
        "engagement_rate": data.engagement_rate, "niche": data.niche.strip(),
        "monthly_revenue_goal": data.monthly_revenue_goal, "currency": data.currency,
        "hours_per_week": data.hours_per_week, "audience_age_bands": list(data.audience_age_bands),
        "audience_top_countries": list(data.audience_top_countries), "signals": data.signals.strip(),
        "personality_notes": data.personality_notes.strip(), "updated_at": now,
    }
    profile, created = CreatorProfile.objects.select_for_update().get_or_create(
        user=user, defaults={**fields, "created_at": now})
    if not created:
        for name, value in fields.items():
            setattr(profile, name, value)
        profile.save()
    logger.info("creator_profile_saved user_id=%s created=%s", user.pk, created)
    return profile


def _shares_validate(rows: tuple[dict[str, Any], ...], *, key: str, field: str) -> None:
    for row in rows:
        label, percent = row.get(key), row.get("percent")
        if (set(row) != {key, "percent"} or not isinstance(label, str) or not label.strip()
                or isinstance(percent, bool) or not isinstance(percent, (int, Decimal)) or not 0 <= percent <= 100):
            raise CreatorProfileInvalid(f'Each entry is {{"{key}": ..., "percent": 0-100}}.', field=field)
    if sum(row["percent"] for row in rows) > 100:
        raise CreatorProfileInvalid("The shares add up to more than 100%.", field=field)


# --- Projects ----------------------------------------------------------------------------------------------------

def project_start(*, user, playbook_key: str, now: datetime, target_launch_date: date | None = None,
                  name: str = "") -> Project:
    """Start a project on a playbook for the user: the plan customised for their profile, and the coach's templated
    welcome as the first message. One active project per user (ProjectActiveExists, 409)."""
    playbook = playbook_get(playbook_key)
    profile = CreatorProfile.objects.filter(user=user).first()
    if profile is None:
        raise CreatorProfileMissing("Set up your creator profile first: the plan is computed from it.")
    start = now.date()
    target = target_launch_date or default_target_launch_date(playbook=playbook, profile=profile, start=start)
    _target_validate(target, start=start)
    try:
        with transaction.atomic():
            if Project.objects.filter(user=user, status=Project.Status.ACTIVE).exists():
                raise _active_exists()
            project = Project.objects.create(
                user=user, name=name.strip() or playbook.title, playbook_key=playbook.key,
                playbook_version=playbook.version, target_launch_date=target,
                plan=plan_build(playbook=playbook, profile=profile, start=start, target=target),
                created_at=now, updated_at=now,
            )
            CoachMessage.objects.create(project=project, user=user, role=CoachMessage.Role.ASSISTANT,
                                        status=CoachMessage.Status.TEMPLATED, created_at=now,
                                        content=welcome_render(playbook=playbook, profile=profile, target=target))
    except IntegrityError as error:
        # A concurrent start won the partial unique index (coach_project_one_active_per_user).
        raise _active_exists() from error
    logger.info("coach_project_started user_id=%s project_id=%s playbook=%s@%s", user.pk, project.pk,
                playbook.key, playbook.version)
    return project


def project_update(*, project: Project, now: datetime, target_launch_date: date | None = None,
                   status: str | None = None) -> Project:
    """Move the target date (the plan's phase dates follow) and/or the status, along STATUS_TRANSITIONS."""
    try:
        with transaction.atomic():
            locked = Project.objects.select_for_update().get(pk=project.pk)
            if target_launch_date is not None and target_launch_date != locked.target_launch_date:
                if locked.status not in OPEN_STATUSES:
                    raise _closed(locked)
                _target_validate(target_launch_date, start=locked.created_at.date())
                locked.target_launch_date = target_launch_date
                locked.plan = {**locked.plan, "phases": phase_dates(
                    playbook=playbook_get(locked.playbook_key), start=locked.created_at.date(),
                    target=target_launch_date)}
            if status is not None and status != locked.status:
                if status not in STATUS_TRANSITIONS.get(locked.status, frozenset()):
                    raise ProjectStatusTransitionInvalid(
                        f"A project that is {locked.status} cannot become {status}.", field="status",
                        details={"from": locked.status, "to": status,
                                 "allowed": sorted(STATUS_TRANSITIONS.get(locked.status, frozenset()))})
                if status == Project.Status.ACTIVE and Project.objects.filter(
                        user_id=locked.user_id, status=Project.Status.ACTIVE).exists():
                    raise _active_exists()
                locked.status = status
                locked.completed_at = now if status == Project.Status.COMPLETED else None
            locked.updated_at = now
            locked.save()
    except IntegrityError as error:
        raise _active_exists() from error
    return locked


def default_target_launch_date(*, playbook: Playbook, profile: CreatorProfile, start: date) -> date:
    days = sum(phase.duration_days for phase in playbook.phases)
    if profile.hours_per_week < FEW_HOURS_PER_WEEK:
        days *= 2
    return start + timedelta(days=days)


def plan_build(*, playbook: Playbook, profile: CreatorProfile, start: date, target: date) -> dict[str, Any]:
    """The playbook customised for the profile, kept on the project: the recommendations computed from the
    profile's numbers (as they were when the project started) and each phase's dates toward the target."""
    goal = Money(profile.monthly_revenue_goal, profile.currency)
    recommendations = {
        decision.category: community_pricing(followers=profile.follower_count,
                                             engagement_rate=profile.engagement_rate, goal=goal,
                                             params=decision.recommendation).as_data()
        for decision in playbook.decisions
        if decision.recommendation and decision.recommendation["kind"] == "community_pricing"
    }
    return {
        "playbook": playbook.key, "version": playbook.version,
        "profile": {"primary_platform": profile.primary_platform, "follower_count": profile.follower_count,
                    "engagement_rate": str(profile.engagement_rate),
                    "monthly_revenue_goal": str(profile.monthly_revenue_goal), "currency": profile.currency,
                    "hours_per_week": profile.hours_per_week},
        "recommendations": recommendations,
        "phases": phase_dates(playbook=playbook, start=start, target=target),
    }


def phase_dates(*, playbook: Playbook, start: date, target: date) -> list[dict[str, str]]:
    """Each phase's start and end, its share of the days to the target in proportion to its default duration."""
    total_days = max(1, (target - start).days)
    weights = sum(phase.duration_days for phase in playbook.phases)
    phases, elapsed, begins = [], 0, start
    for phase in playbook.phases:
        elapsed += phase.duration_days
        ends = start + timedelta(days=round(total_days * elapsed / weights))
        phases.append({"id": phase.id, "starts_on": begins.isoformat(), "ends_on": ends.isoformat()})
        begins = ends
    return phases


def welcome_render(*, playbook: Playbook, profile: CreatorProfile, target: date) -> str:
    user = profile.user
    name = (getattr(user, "full_name", "") or user.email.split("@")[0]).strip()
    return playbook.welcome.format(
        name=name, platform=profile.get_primary_platform_display(), followers=f"{profile.follower_count:,}",
        niche=profile.niche, playbook=playbook.title, target_launch_date=f"{target:%B} {target.day}, {target.year}",
        first_task=playbook.tasks[0].title, hours_per_week=profile.hours_per_week,
    )


def _target_validate(target: date, *, start: date) -> None:
    if target <= start:
        raise ProjectInvalid("The target launch date must be after the project's start.", field="target_launch_date",
                             details={"starts_on": start.isoformat()})


def _active_exists() -> ProjectActiveExists:
    return ProjectActiveExists("You already have an active project: pause, complete or abandon it first.",
                               field="status")


def _closed(project: Project) -> ProjectClosed:
    return ProjectClosed(f"This project is {project.status}: it can no longer change.",
                         details={"status": project.status})


# --- Tasks -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TaskToggled:
    task_id: str
    done: bool
    completion: TaskCompletion


@transaction.atomic
def task_toggle(*, project: Project, task_id: str, user, now: datetime,
                method: str = TaskCompletion.Method.MANUAL, source_message: CoachMessage | None = None) -> TaskToggled:
    """Complete the task, or undo its completion when it is done (the undone row is kept, with `undone_at`).
    Toggles of one project are serialised on its row, so a double click cannot complete a task twice."""
    locked = Project.objects.select_for_update().get(pk=project.pk)
    if locked.status not in OPEN_STATUSES:
        raise _closed(locked)
    task = playbook_get(locked.playbook_key).task(task_id)
    if task is None:
        raise TaskUnknown("This playbook has no task with this id.", field="task_id", details={"task_id": task_id})
    completion = TaskCompletion.objects.filter(project=locked, task_id=task.id, undone_at__isnull=True).first()
    if completion is not None:
        completion.undone_at = now
        completion.save(update_fields=["undone_at"])
        return TaskToggled(task_id=task.id, done=False, completion=completion)
    completion = TaskCompletion.objects.create(project=locked, task_id=task.id, task_title=task.title, method=method,
                                               completed_by=user, source_message=source_message, completed_at=now)
    return TaskToggled(task_id=task.id, done=True, completion=completion)


# --- Decisions ---------------------------------------------------------------------------------------------------

@transaction.atomic
def decision_record(*, project: Project, category: str, option: str, now: datetime, rationale: str = "",
                    source: str = Decision.Source.USER, confidence: Decimal = Decimal(1),
                    source_message: CoachMessage | None = None) -> Decision:
    """Record the project's decision in `category` as one of the playbook's options; the current one in that
    category, if any, is superseded (kept, no longer current). A pricing decision carries the prices the plan
    recommends for the profile."""
    locked = Project.objects.select_for_update().get(pk=project.pk)
    decision = _decision_of(locked, category)
    chosen = decision.option(option)
    if chosen is None:
        raise DecisionInvalid("Choose one of the decision's options.", field="option",
                              details={"options": [choice.value for choice in decision.options]})
    _confidence_validate(confidence)
    data: dict[str, Any] = {"option": chosen.value}
    value = chosen.label
    recommendation = locked.plan.get("recommendations", {}).get(category)
    if recommendation:
        data["recommendation"] = recommendation
        core, premium = recommendation["core_price"], recommendation["premium_price"]
        value = (f"{chosen.label}: {core['amount']} {core['currency']} a month"
                 + (f" (premium {premium['amount']} {premium['currency']})" if chosen.value == "two-tiers" else ""))
    return _decision_create(project=locked, category=category, value=value, data=data, rationale=rationale,
                            confidence=confidence, source=source, source_message=source_message, now=now)


@transaction.atomic
def decision_record_detected(*, project: Project, category: str, value: str, data: dict[str, Any],
                             confidence: Decimal, source: str, now: datetime, rationale: str = "",
                             source_message: CoachMessage | None = None) -> Decision:
    """Record a decision the coach found in the chat (creators.chat): its free value ("29.00 USD a month", "Launch
    on March 15, 2027") is kept as said, with its data, and mapped to the nearest of the playbook's options
    (`decision_option_nearest`, kept as data["option"]). Supersedes the current decision like `decision_record`
    (its id kept as data["supersedes"]).
    DecisionInvalid when no option fits what was said."""
    locked = Project.objects.select_for_update().get(pk=project.pk)
    decision = _decision_of(locked, category)
    chosen = decision_option_nearest(decision=decision, value=value, data=data, starts_on=locked.created_at.date())
    if chosen is None or not value.strip():
        raise DecisionInvalid("None of the decision's options fits what was said.", field="value",
                              details={"category": category, "value": value})
    _confidence_validate(confidence)
    # What it supersedes, so that undoing it (creators.chat.apply) can make that one current again.
    supersedes = Decision.objects.filter(project=locked, category=category, is_current=True).values_list(
        "pk", flat=True).first()
    recorded = {**data, "option": chosen.value, "supersedes": supersedes}
    recommendation = locked.plan.get("recommendations", {}).get(category)
    if recommendation:
        recorded["recommendation"] = recommendation
    return _decision_create(project=locked, category=category, value=value.strip()[:500], data=recorded,
                            rationale=rationale, confidence=confidence, source=source, source_message=source_message,
                            now=now)


# What was said about a price -> the pricing options that fit it, the first the playbook has wins.
PRICE_OPTIONS = {"tiers": ("two-tiers",), "year": ("annual-option",), "hour": ("hourly",),
                 "month": ("single-tier", "fixed-fee", "subscription")}
CADENCE_OPTION_WORDS = {"day": "daily", "week": "weekly", "month": "monthly"}
DURATION_DAYS = {"day": 1, "week": 7, "month": 30}
_OPTION_DURATION = re.compile(r"(\d+)-(day|week|month)s?\b")


def decision_option_nearest(*, decision: PlaybookDecision, value: str, data: dict[str, Any],
                            starts_on: date) -> PlaybookOption | None:
    """The playbook option closest to a detected value: the option the data names, else the option whose value or
    label was said, else by what the data holds: a price (two prices -> "two-tiers", a yearly one ->
    "annual-option", else "single-tier"), a launch date (the option whose duration in its value, like
    "standard-30-days", is nearest the days from the project's start) or a cadence (the option whose value says
    daily, weekly or monthly). None when nothing fits."""
    named = decision.option(str(data.get("option", "")))
    if named is not None:
        return named
    said = value.strip().lower()
    for option in decision.options:
        if said in (option.value, option.label.lower()):
            return option
    if "amount" in data:
        shape = ("tiers" if data.get("premium_amount") else "year" if data.get("annual_amount")
                 else str(data.get("interval", "month")))
        return next((option for wanted in PRICE_OPTIONS.get(shape, ()) + PRICE_OPTIONS["month"]
                     if (option := decision.option(wanted)) is not None), None)
    if "launch_date" in data:
        try:
            days = (date.fromisoformat(str(data["launch_date"])) - starts_on).days
        except ValueError:
            return None
        durations = [(int(match[1]) * DURATION_DAYS[match[2]], option) for option in decision.options
                     if (match := _OPTION_DURATION.search(option.value))]
        return min(durations, key=lambda row: abs(row[0] - days))[1] if durations else None
    if "per" in data:
        word = CADENCE_OPTION_WORDS.get(str(data["per"]), "")
        return next((option for option in decision.options if word and word in option.value), None)
    return None


def _decision_of(project: Project, category: str) -> PlaybookDecision:
    if project.status not in OPEN_STATUSES:
        raise _closed(project)
    decision = playbook_get(project.playbook_key).decision(category)
    if decision is None:
        raise DecisionInvalid("This playbook has no decision in this category.", field="category",
                              details={"category": category})
    return decision


def _confidence_validate(confidence: Decimal) -> None:
    if not Decimal(0) <= confidence <= Decimal(1):
        raise DecisionInvalid("Confidence goes from 0 to 1.", field="confidence")


def _decision_create(*, project: Project, category: str, value: str, data: dict[str, Any], rationale: str,
                     confidence: Decimal, source: str, source_message: CoachMessage | None, now: datetime
                     ) -> Decision:
    """Supersede the current decision in the category and record the new one (the project's row is locked)."""
    Decision.objects.filter(project=project, category=category, is_current=True).update(is_current=False,
                                                                                        superseded_at=now)
    recorded = Decision.objects.create(project=project, category=category, value=value, data=data,
                                       rationale=rationale.strip(), confidence=confidence, source=source,
                                       source_message=source_message, is_current=True, created_at=now)
    logger.info("coach_decision_recorded project_id=%s category=%s source=%s", project.pk, category, source)
    return recorded
