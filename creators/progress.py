"""A project's four progress figures, always computed from its rows and its playbook, never stored:

- overall: tasks done / all tasks of the playbook;
- planning: decisions with a current value / the playbook's decisions;
- execution: tasks done in the execution phases / the tasks of those phases;
- timeline: days elapsed since the project started / days from the start to the target launch date, with a status:
  "on track" while the tasks done keep pace with the days (done share x total days >= days elapsed, rounded down),
  "behind by N days" otherwise (N = days elapsed - the days the work done is worth), "no target date" without one
  and "done" once every task is done.

Percentages are whole numbers rounded down, so 100 means finished and never "almost".
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from creators.playbooks import Playbook


@dataclass(frozen=True)
class Timeline:
    percent: int | None
    status: str  # "on_track", "behind", "no_target", "done"
    days_behind: int
    days_elapsed: int
    days_total: int | None
    days_to_launch: int | None

    @property
    def label(self) -> str:
        if self.status == "behind":
            return f"behind by {self.days_behind} day{'s' if self.days_behind != 1 else ''}"
        return {"on_track": "on track", "no_target": "no target date", "done": "done"}[self.status]


@dataclass(frozen=True)
class Progress:
    overall: int
    planning: int
    execution: int
    timeline: Timeline
    tasks_done: int
    tasks_total: int
    decisions_made: int
    decisions_total: int
    current_phase: str | None  # the first phase with a task left; None when every task is done


def progress_compute(*, playbook: Playbook, done_task_ids: Collection[str], decided_categories: Collection[str],
                     started_on: date, target_launch_date: date | None, today: date) -> Progress:
    task_ids = {task.id for task in playbook.tasks}
    done = set(done_task_ids) & task_ids
    categories = {decision.category for decision in playbook.decisions}
    decided = set(decided_categories) & categories
    execution_ids = {task.id for task in playbook.tasks if task.phase in playbook.execution_phase_ids}
    current_phase = next((phase.id for phase in playbook.phases
                          if any(task.id not in done for task in playbook.tasks_of(phase.id))), None)
    return Progress(
        overall=_percent(len(done), len(task_ids)),
        planning=_percent(len(decided), len(categories)),
        execution=_percent(len(done & execution_ids), len(execution_ids)),
        timeline=timeline_compute(done_share=(len(done), len(task_ids)), started_on=started_on,
                                  target_launch_date=target_launch_date, today=today),
        tasks_done=len(done), tasks_total=len(task_ids), decisions_made=len(decided),
        decisions_total=len(categories), current_phase=current_phase,
    )


def timeline_compute(*, done_share: tuple[int, int], started_on: date, target_launch_date: date | None,
                     today: date) -> Timeline:
    """`done_share` is (tasks done, tasks in all): kept as two integers so the pace is compared exactly."""
    done, total = done_share
    elapsed = max(0, (today - started_on).days)
    if target_launch_date is None:
        return Timeline(percent=None, status="no_target", days_behind=0, days_elapsed=elapsed, days_total=None,
                        days_to_launch=None)
    days_total = max(1, (target_launch_date - started_on).days)
    days_to_launch = (target_launch_date - today).days
    percent = min(100, _percent(elapsed, days_total))
    if total and done >= total:
        return Timeline(percent=percent, status="done", days_behind=0, days_elapsed=elapsed, days_total=days_total,
                        days_to_launch=days_to_launch)
    # The days the work done is worth on a straight-line schedule, rounded down: a task is credited once it is done.
    earned = (done * days_total) // total if total else 0
    behind = elapsed - earned
    if behind <= 0:
        return Timeline(percent=percent, status="on_track", days_behind=0, days_elapsed=elapsed,
                        days_total=days_total, days_to_launch=days_to_launch)
    return Timeline(percent=percent, status="behind", days_behind=behind, days_elapsed=elapsed,
                    days_total=days_total, days_to_launch=days_to_launch)


def _percent(part: int, whole: int) -> int:
    return part * 100 // whole if whole else 0
