"""Playbooks: the coach's plans, kept as versioned JSON files beside this module (one kit per file, named after its
key) and validated strictly when the app starts, so a broken file stops the deployment instead of a creator.

A file holds the kit's `key`, `version` (raise it on every change: a project keeps the version it started on),
`title`, `summary`, a `welcome` template, its `phases` (planning or execution, each with a default duration),
its `decisions` (a category, a question, options with guidance and trade-offs, and how the profile informs the
recommendation) and its `tasks` (what to do, why, estimated minutes and cost, the decision it depends on, what
"done" looks like). The README's Creators section documents every field; `playbook_validate` is the reference.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from config.errors import DomainError

PLAYBOOK_DIR = Path(__file__).resolve().parent
PHASE_KINDS = ("planning", "execution")
RECOMMENDATION_KINDS = ("community_pricing",)
CATEGORY_MAX_LENGTH = 30  # creators.models.Decision.category
# The placeholders a welcome template may use (filled by creators.services from the profile and the plan).
WELCOME_FIELDS = frozenset({"name", "platform", "followers", "niche", "playbook", "target_launch_date",
                            "first_task", "hours_per_week"})


class PlaybookInvalid(Exception):
    """A playbook file breaks the format: raised at startup with the file and every problem found."""


class PlaybookUnknown(DomainError):
    code = "playbook_unknown"
    status = 404


@dataclass(frozen=True)
class Phase:
    id: str
    title: str
    summary: str
    kind: str
    duration_days: int


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    guidance: str
    pros: tuple[str, ...]
    cons: tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    category: str
    question: str
    guidance: str
    profile_informs: str
    options: tuple[Option, ...]
    recommendation: dict[str, Any] | None

    def option(self, value: str) -> Option | None:
        return next((option for option in self.options if option.value == value), None)


@dataclass(frozen=True)
class Task:
    id: str
    phase: str
    title: str
    what: str
    why: str
    estimated_minutes: int
    estimated_cost: Decimal
    depends_on_decision: str | None
    done_when: str


@dataclass(frozen=True)
class Playbook:
    key: str
    version: int
    title: str
    summary: str
    currency: str
    welcome: str
    phases: tuple[Phase, ...]
    decisions: tuple[Decision, ...]
    tasks: tuple[Task, ...]

    def task(self, task_id: str) -> Task | None:
        return next((task for task in self.tasks if task.id == task_id), None)

    def decision(self, category: str) -> Decision | None:
        return next((decision for decision in self.decisions if decision.category == category), None)

    def tasks_of(self, phase_id: str) -> tuple[Task, ...]:
        return tuple(task for task in self.tasks if task.phase == phase_id)

    @property
    def execution_phase_ids(self) -> frozenset[str]:
        return frozenset(phase.id for phase in self.phases if phase.kind == "execution")


def playbook_get(key: str) -> Playbook:
    """The loaded playbook with this key; PlaybookUnknown (404) if no file has it."""
    playbook = playbooks_loaded().get(key)
    if playbook is None:
        raise PlaybookUnknown("No playbook has this key.", field="playbook", details={"playbook": key})
    return playbook


def playbook_list() -> list[Playbook]:
    return sorted(playbooks_loaded().values(), key=lambda playbook: playbook.title)


@lru_cache(maxsize=1)
def playbooks_loaded() -> dict[str, Playbook]:
    """Every playbook file, parsed and validated once per process (the files only change with a deployment)."""
    return playbooks_load(PLAYBOOK_DIR)


def playbooks_load(directory: Path) -> dict[str, Playbook]:
    loaded: dict[str, Playbook] = {}
    for path in sorted(directory.glob("*.json")):
        playbook = playbook_from_file(path)
        if playbook.key in loaded:
            raise PlaybookInvalid(f"{path.name}: the key {playbook.key!r} is used by another file.")
        loaded[playbook.key] = playbook
    if not loaded:
        raise PlaybookInvalid(f"No playbook file (*.json) in {directory}.")
    return loaded


def playbook_from_file(path: Path) -> Playbook:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PlaybookInvalid(f"{path.name}: not readable JSON ({error}).") from error
    problems = playbook_validate(data)
    if problems:
        raise PlaybookInvalid(f"{path.name}: " + "; ".join(problems))
    if data["key"] != path.stem:
        raise PlaybookInvalid(f"{path.name}: the key {data['key']!r} must match the file name.")
    return _playbook(data)


def playbook_validate(data: Any) -> list[str]:
    """Every problem in a playbook's parsed JSON, as sentences naming the place ([] when it is valid)."""
    if not isinstance(data, dict):
        return ["the file must hold one JSON object"]
    problems: list[str] = []
    _fields(data, "playbook", problems, {"key": str, "version": int, "title": str, "summary": str, "welcome": str,
                                         "currency": str, "phases": list, "decisions": list, "tasks": list})
    if problems:
        return problems
    if not _is_slug(data["key"]):
        problems.append("key: lower-case letters, digits, hyphens and underscores only (60 at most)")
    if data["version"] < 1:
        problems.append("version: a positive integer")
    unknown = {name for _, name, _, _ in string.Formatter().parse(data["welcome"]) if name} - WELCOME_FIELDS
    if unknown:
        problems.append(f"welcome: unknown placeholders {sorted(unknown)} (allowed: {sorted(WELCOME_FIELDS)})")
    phase_ids = _phases_validate(data["phases"], problems)
    categories = _decisions_validate(data["decisions"], problems)
    _tasks_validate(data["tasks"], phase_ids, categories, problems)
    return problems


def _phases_validate(phases: list, problems: list[str]) -> set[str]:
    ids: set[str] = set()
    if not phases:
        problems.append("phases: at least one")
    for index, phase in enumerate(phases):
        where = f"phases[{index}]"
        if not _fields(phase, where, problems, {"id": str, "title": str, "summary": str, "kind": str,
                                                "duration_days": int}):
            continue
        _unique_slug(phase["id"], ids, f"{where}.id", problems)
        if phase["kind"] not in PHASE_KINDS:
            problems.append(f"{where}.kind: one of {list(PHASE_KINDS)}")
        if phase["duration_days"] < 1:
            problems.append(f"{where}.duration_days: at least 1")
    return ids


def _decisions_validate(decisions: list, problems: list[str]) -> set[str]:
    categories: set[str] = set()
    for index, decision in enumerate(decisions):
        where = f"decisions[{index}]"
        if not _fields(decision, where, problems, {"category": str, "question": str, "guidance": str,
                                                   "profile_informs": str, "options": list}):
            continue
        _unique_slug(decision["category"], categories, f"{where}.category", problems)
        if len(decision["category"]) > CATEGORY_MAX_LENGTH:
            problems.append(f"{where}.category: {CATEGORY_MAX_LENGTH} characters at most")
        values: set[str] = set()
        if not decision["options"]:
            problems.append(f"{where}.options: at least one")
        for number, option in enumerate(decision["options"]):
            at = f"{where}.options[{number}]"
            if _fields(option, at, problems, {"value": str, "label": str, "guidance": str, "pros": list,
                                              "cons": list}):
                _unique_slug(option["value"], values, f"{at}.value", problems)
                if not all(isinstance(item, str) for item in option["pros"] + option["cons"]):
                    problems.append(f"{at}: pros and cons are lists of sentences")
        recommendation = decision.get("recommendation")
        if recommendation is not None and (not isinstance(recommendation, dict)
                                           or recommendation.get("kind") not in RECOMMENDATION_KINDS):
            problems.append(f"{where}.recommendation: an object whose kind is one of {list(RECOMMENDATION_KINDS)}")
        elif recommendation is not None:
            _community_pricing_validate(recommendation, f"{where}.recommendation", problems)
    return categories


def _community_pricing_validate(params: dict, where: str, problems: list[str]) -> None:
    for name in ("conversion_rate", "premium_share", "premium_multiplier"):
        value = _decimal(params.get(name))
        if value is None or value <= 0:
            problems.append(f"{where}.{name}: a positive decimal string")
    points = params.get("price_points")
    if not isinstance(points, list) or not points or any(_decimal(point) is None for point in points):
        problems.append(f"{where}.price_points: a list of decimal strings")
    elif [Decimal(point) for point in points] != sorted({Decimal(point) for point in points}):
        problems.append(f"{where}.price_points: strictly increasing")


def _tasks_validate(tasks: list, phase_ids: set[str], categories: set[str], problems: list[str]) -> None:
    ids: set[str] = set()
    if not tasks:
        problems.append("tasks: at least one")
    for index, task in enumerate(tasks):
        where = f"tasks[{index}]"
        if not _fields(task, where, problems, {"id": str, "phase": str, "title": str, "what": str, "why": str,
                                               "estimated_minutes": int, "estimated_cost": str, "done_when": str}):
            continue
        _unique_slug(task["id"], ids, f"{where}.id", problems)
        if task["phase"] not in phase_ids:
            problems.append(f"{where}.phase: {task['phase']!r} is not a phase of this playbook")
        if task["estimated_minutes"] < 1:
            problems.append(f"{where}.estimated_minutes: at least 1")
        cost = _decimal(task["estimated_cost"])
        if cost is None or cost < 0:
            problems.append(f"{where}.estimated_cost: a decimal string, 0 or more")
        depends = task.get("depends_on_decision")
        if depends is not None and depends not in categories:
            problems.append(f"{where}.depends_on_decision: {depends!r} is not a decision of this playbook")
    for phase_id in phase_ids - {task.get("phase") for task in tasks if isinstance(task, dict)}:
        problems.append(f"phases: {phase_id!r} has no task")


def _fields(data: Any, where: str, problems: list[str], types: dict[str, type]) -> bool:
    if not isinstance(data, dict):
        problems.append(f"{where}: must be an object")
        return False
    ok = True
    for name, kind in types.items():
        value = data.get(name)
        # bool is an int in Python; a version or a duration of `true` is still a mistake.
        if not isinstance(value, kind) or isinstance(value, bool) or (kind is str and not value.strip()):
            problems.append(f"{where}.{name}: required, a {'non-empty string' if kind is str else kind.__name__}")
            ok = False
    return ok


def _unique_slug(value: str, seen: set[str], where: str, problems: list[str]) -> None:
    if not _is_slug(value):
        problems.append(f"{where}: lower-case letters, digits, hyphens and underscores only")
    elif value in seen:
        problems.append(f"{where}: {value!r} is used twice")
    seen.add(value)


def _is_slug(value: str) -> bool:
    return bool(value) and len(value) <= 60 and all(char in "abcdefghijklmnopqrstuvwxyz0123456789-_"
                                                    for char in value)


def _decimal(value: Any) -> Decimal | None:
    if not isinstance(value, str):
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _playbook(data: dict) -> Playbook:
    return Playbook(
        key=data["key"], version=data["version"], title=data["title"], summary=data["summary"],
        currency=data["currency"], welcome=data["welcome"],
        phases=tuple(Phase(id=phase["id"], title=phase["title"], summary=phase["summary"], kind=phase["kind"],
                           duration_days=phase["duration_days"]) for phase in data["phases"]),
        decisions=tuple(
            Decision(category=decision["category"], question=decision["question"], guidance=decision["guidance"],
                     profile_informs=decision["profile_informs"],
                     options=tuple(Option(value=option["value"], label=option["label"], guidance=option["guidance"],
                                          pros=tuple(option["pros"]), cons=tuple(option["cons"]))
                                   for option in decision["options"]),
                     recommendation=decision.get("recommendation"))
            for decision in data["decisions"]),
        tasks=tuple(Task(id=task["id"], phase=task["phase"], title=task["title"], what=task["what"], why=task["why"],
                         estimated_minutes=task["estimated_minutes"], estimated_cost=Decimal(task["estimated_cost"]),
                         depends_on_decision=task.get("depends_on_decision"), done_when=task["done_when"])
                    for task in data["tasks"]),
    )
