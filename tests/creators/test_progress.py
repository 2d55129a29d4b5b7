"""Progress figures at their boundaries: computed from the tasks done, the decisions made and the calendar."""

from datetime import date, timedelta

from creators.playbooks import playbook_get
from creators.progress import progress_compute, timeline_compute

START = date(2026, 11, 1)
PREMIUM = playbook_get("premium-community")
PLANNING_TASKS = [task.id for task in PREMIUM.tasks_of("foundation")]
EXECUTION_TASKS = [task.id for task in PREMIUM.tasks if task.phase != "foundation"]


def progress(done=(), decided=(), today=START, target=START + timedelta(days=30)):
    return progress_compute(playbook=PREMIUM, done_task_ids=done, decided_categories=decided, started_on=START,
                            target_launch_date=target, today=today)


def test_nothing_done_is_zero_everywhere():
    figures = progress()

    assert (figures.overall, figures.planning, figures.execution) == (0, 0, 0)
    assert figures.current_phase == "foundation"


def test_every_task_done_is_a_hundred_percent_and_no_current_phase():
    figures = progress(done=[task.id for task in PREMIUM.tasks])

    assert (figures.overall, figures.execution) == (100, 100)
    assert figures.current_phase is None
    assert figures.timeline.status == "done"


def test_overall_rounds_down_so_one_task_short_is_not_a_hundred():
    figures = progress(done=[task.id for task in PREMIUM.tasks][:-1])

    assert figures.overall == 95  # 21 of 22


def test_planning_counts_the_decisions_made():
    assert progress(decided=["platform", "pricing"]).planning == 40


def test_decisions_outside_the_playbook_do_not_count():
    assert progress(decided=["platform", "mood"]).planning == 20


def test_execution_counts_only_the_execution_phases_tasks():
    figures = progress(done=PLANNING_TASKS)

    assert figures.execution == 0
    assert figures.overall == 27  # 6 of 22
    assert figures.current_phase == "build"


def test_execution_half_done():
    figures = progress(done=EXECUTION_TASKS[:8])

    assert figures.execution == 50  # 8 of 16


def test_unknown_task_ids_are_ignored():
    assert progress(done=["not-a-task"]).overall == 0


def test_on_the_first_day_nothing_is_behind():
    timeline = timeline_compute(done_share=(0, 22), started_on=START, target_launch_date=START + timedelta(days=22),
                                today=START)

    assert (timeline.status, timeline.label, timeline.percent) == ("on_track", "on track", 0)
    assert timeline.days_to_launch == 22


def test_keeping_pace_exactly_is_on_track():
    # 22 days for 22 tasks: 5 days in with 5 tasks done.
    timeline = timeline_compute(done_share=(5, 22), started_on=START, target_launch_date=START + timedelta(days=22),
                                today=START + timedelta(days=5))

    assert timeline.status == "on_track"


def test_one_day_behind_the_pace_says_so():
    timeline = timeline_compute(done_share=(4, 22), started_on=START, target_launch_date=START + timedelta(days=22),
                                today=START + timedelta(days=5))

    assert (timeline.status, timeline.days_behind, timeline.label) == ("behind", 1, "behind by 1 day")


def test_several_days_behind_is_plural():
    timeline = timeline_compute(done_share=(0, 22), started_on=START, target_launch_date=START + timedelta(days=22),
                                today=START + timedelta(days=3))

    assert timeline.label == "behind by 3 days"


def test_past_the_target_with_tasks_left_is_behind_and_the_bar_is_full():
    timeline = timeline_compute(done_share=(11, 22), started_on=START, target_launch_date=START + timedelta(days=30),
                                today=START + timedelta(days=40))

    assert timeline.percent == 100
    assert (timeline.status, timeline.days_behind) == ("behind", 25)  # 40 days elapsed, the work done is worth 15
    assert timeline.days_to_launch == -10


def test_without_a_target_date_there_is_no_timeline():
    timeline = timeline_compute(done_share=(3, 22), started_on=START, target_launch_date=None, today=START)

    assert (timeline.status, timeline.label, timeline.percent) == ("no_target", "no target date", None)


def test_timeline_percent_is_days_elapsed_over_days_planned():
    timeline = timeline_compute(done_share=(22, 22), started_on=START, target_launch_date=START + timedelta(days=30),
                                today=START + timedelta(days=15))

    assert timeline.percent == 50
