"""The coach's writes: profiles validated, one active project per user (the database's rule too), a plan customised
for the profile with a templated welcome, status transitions, task toggles with history, and decisions that
supersede each other with the history kept."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from creators.models import CoachMessage, CreatorProfile, Decision, Project, TaskCompletion
from creators.playbooks import PlaybookUnknown
from creators.services import (
    CreatorProfileInvalid,
    CreatorProfileMissing,
    DecisionInvalid,
    ProjectActiveExists,
    ProjectClosed,
    ProjectInvalid,
    ProjectStatusTransitionInvalid,
    TaskUnknown,
    decision_record,
    project_start,
    project_update,
    task_toggle,
)
from tests.support.clock import NOW
from tests.support.creators import profile_for, project_for

pytestmark = pytest.mark.django_db
TODAY = NOW.date()


# --- Profile -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "value"), [
    ("engagement_rate", Decimal("100.01")), ("engagement_rate", Decimal("-1")), ("follower_count", -1),
    ("hours_per_week", 169), ("monthly_revenue_goal", Decimal("-0.01")), ("primary_platform", "myspace"),
    ("niche", "  "),
])
def test_a_profile_out_of_range_is_refused_naming_the_field(creator, field, value):
    with pytest.raises(CreatorProfileInvalid) as refused:
        profile_for(creator, **{field: value})

    assert refused.value.field == field
    assert not CreatorProfile.objects.exists()


@pytest.mark.parametrize(("field", "value"), [("engagement_rate", Decimal("0")), ("engagement_rate", Decimal("100")),
                                              ("follower_count", 0), ("hours_per_week", 168),
                                              ("monthly_revenue_goal", Decimal("0"))])
def test_a_profile_on_the_limits_is_accepted(creator, field, value):
    assert getattr(profile_for(creator, **{field: value}), field) == value


def test_audience_shares_adding_up_to_more_than_everyone_are_refused(creator):
    with pytest.raises(CreatorProfileInvalid) as refused:
        profile_for(creator, audience_age_bands=({"band": "18-24", "percent": 70}, {"band": "25-34", "percent": 40}))

    assert refused.value.field == "audience_age_bands"


def test_saving_again_replaces_the_one_profile(creator):
    profile_for(creator)
    profile_for(creator, follower_count=70_000)

    assert list(CreatorProfile.objects.values_list("follower_count", flat=True)) == [70_000]


def test_the_database_refuses_an_engagement_above_100_percent(creator):
    profile = profile_for(creator)
    profile.engagement_rate = Decimal("150")

    with pytest.raises(IntegrityError), transaction.atomic():
        profile.save()


# --- Projects ----------------------------------------------------------------------------------------------------

def test_a_project_needs_a_profile_first(creator):
    with pytest.raises(CreatorProfileMissing):
        project_start(user=creator, playbook_key="premium-community", now=NOW)


def test_an_unknown_playbook_is_refused(creator):
    profile_for(creator)

    with pytest.raises(PlaybookUnknown):
        project_start(user=creator, playbook_key="nope", now=NOW)


def test_the_plan_carries_the_pricing_recommended_for_the_profile(creator):
    project = project_for(creator)

    pricing = project.plan["recommendations"]["pricing"]
    assert (pricing["members"], pricing["core_price"]) == (40, {"amount": "79.00", "currency": "USD"})
    assert (project.playbook_key, project.playbook_version, project.status) == ("premium-community", 1, "active")


def test_without_a_target_date_the_launch_is_the_playbooks_30_days_away(creator):
    project = project_for(creator)

    assert project.target_launch_date == TODAY + timedelta(days=30)
    assert [phase["ends_on"] for phase in project.plan["phases"]][-1] == (TODAY + timedelta(days=30)).isoformat()


def test_with_few_hours_a_week_the_default_launch_is_twice_as_far(creator):
    project = project_for(creator, hours_per_week=3)

    assert project.target_launch_date == TODAY + timedelta(days=60)


def test_phase_dates_are_spread_toward_the_chosen_target(creator):
    project = project_for(creator, target_launch_date=TODAY + timedelta(days=60))

    assert [(phase["id"], phase["starts_on"], phase["ends_on"]) for phase in project.plan["phases"]] == [
        ("foundation", "2026-11-20", "2026-12-04"), ("build", "2026-12-04", "2026-12-20"),
        ("pre-launch", "2026-12-20", "2027-01-05"), ("launch", "2027-01-05", "2027-01-19")]


def test_a_target_date_on_the_start_day_is_refused(creator):
    profile_for(creator)

    with pytest.raises(ProjectInvalid):
        project_start(user=creator, playbook_key="premium-community", now=NOW, target_launch_date=TODAY)


def test_the_welcome_is_a_templated_message_from_the_playbook(creator):
    project = project_for(creator)

    welcome = CoachMessage.objects.get(project=project)
    assert (welcome.role, welcome.status, welcome.cost) == ("assistant", "templated", 0)
    assert "50,000 followers on YouTube" in welcome.content
    assert "December 20, 2026" in welcome.content
    assert "Ask your audience what they would pay for" in welcome.content


def test_a_second_active_project_is_refused(creator):
    project_for(creator)

    with pytest.raises(ProjectActiveExists):
        project_for(creator, playbook_key="startup-kit")
    assert Project.objects.count() == 1


def test_the_database_allows_one_active_project_per_user(creator):
    first = project_for(creator)

    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.create(user=creator, name="Twin", playbook_key="startup-kit", playbook_version=1,
                               created_at=NOW, updated_at=NOW)
    assert Project.objects.get().pk == first.pk


def test_a_paused_project_leaves_room_for_a_new_active_one(creator):
    first = project_for(creator)
    project_update(project=first, status="paused", now=NOW)

    second = project_for(creator, playbook_key="agency-kit")

    assert second.status == "active"


def test_resuming_a_paused_project_while_another_is_active_is_refused(creator):
    first = project_for(creator)
    project_update(project=first, status="paused", now=NOW)
    project_for(creator, playbook_key="agency-kit")

    with pytest.raises(ProjectActiveExists):
        project_update(project=first, status="active", now=NOW)


def test_completing_a_project_records_when(creator):
    project = project_update(project=project_for(creator), status="completed", now=NOW)

    assert (project.status, project.completed_at) == ("completed", NOW)


@pytest.mark.parametrize(("start_as", "to"), [("completed", "active"), ("abandoned", "paused"),
                                               ("paused", "completed")])
def test_a_status_move_outside_the_transitions_is_refused(creator, start_as, to):
    project = project_for(creator)
    if start_as == "completed":
        project = project_update(project=project, status="completed", now=NOW)
    elif start_as == "abandoned":
        project = project_update(project=project, status="abandoned", now=NOW)
    else:
        project = project_update(project=project, status="paused", now=NOW)

    with pytest.raises(ProjectStatusTransitionInvalid):
        project_update(project=project, status=to, now=NOW)


def test_moving_the_target_date_moves_the_phase_dates(creator):
    project = project_for(creator)

    moved = project_update(project=project, target_launch_date=date(2027, 1, 19), now=NOW)

    assert moved.target_launch_date == date(2027, 1, 19)
    assert moved.plan["phases"][-1]["ends_on"] == "2027-01-19"
    assert moved.plan["recommendations"] == project.plan["recommendations"]


def test_a_target_date_before_the_start_is_refused_on_update(creator):
    with pytest.raises(ProjectInvalid):
        project_update(project=project_for(creator), target_launch_date=TODAY - timedelta(days=1), now=NOW)


# --- Tasks -------------------------------------------------------------------------------------------------------

def test_toggling_a_task_completes_it_by_hand(creator):
    project = project_for(creator)

    toggled = task_toggle(project=project, task_id="audience-survey", user=creator, now=NOW)

    assert toggled.done is True
    completion = TaskCompletion.objects.get()
    assert (completion.task_title, completion.method, completion.completed_by) == (
        "Ask your audience what they would pay for", "manual", creator)


def test_toggling_a_done_task_undoes_it_and_keeps_the_history(creator):
    project = project_for(creator)
    task_toggle(project=project, task_id="audience-survey", user=creator, now=NOW)

    toggled = task_toggle(project=project, task_id="audience-survey", user=creator, now=NOW + timedelta(minutes=1))

    assert toggled.done is False
    assert TaskCompletion.objects.get().undone_at == NOW + timedelta(minutes=1)


def test_a_task_done_again_after_an_undo_is_a_new_completion(creator):
    project = project_for(creator)
    for minute in range(3):
        task_toggle(project=project, task_id="define-promise", user=creator, now=NOW + timedelta(minutes=minute))

    assert TaskCompletion.objects.count() == 2
    assert TaskCompletion.objects.filter(undone_at__isnull=True).count() == 1


def test_the_database_keeps_one_live_completion_per_task(creator):
    project = project_for(creator)
    task_toggle(project=project, task_id="define-promise", user=creator, now=NOW)

    with pytest.raises(IntegrityError), transaction.atomic():
        TaskCompletion.objects.create(project=project, task_id="define-promise", task_title="Again",
                                      method="manual", completed_at=NOW)


def test_an_unknown_task_is_refused(creator):
    with pytest.raises(TaskUnknown):
        task_toggle(project=project_for(creator), task_id="build-a-rocket", user=creator, now=NOW)


def test_tasks_of_a_completed_project_no_longer_change(creator):
    project = project_update(project=project_for(creator), status="completed", now=NOW)

    with pytest.raises(ProjectClosed):
        task_toggle(project=project, task_id="audience-survey", user=creator, now=NOW)


# --- Decisions ---------------------------------------------------------------------------------------------------

def test_a_decision_is_recorded_from_the_options(creator):
    decision = decision_record(project=project_for(creator), category="platform", option="discord",
                               rationale="My viewers are on Discord", now=NOW)

    assert (decision.value, decision.data, decision.source, decision.is_current) == (
        "Discord", {"option": "discord"}, "user", True)
    assert decision.confidence == 1


def test_a_new_decision_supersedes_the_current_one_and_keeps_it(creator):
    project = project_for(creator)
    first = decision_record(project=project, category="platform", option="discord", now=NOW)

    second = decision_record(project=project, category="platform", option="circle", now=NOW + timedelta(hours=1))

    first.refresh_from_db()
    assert (first.is_current, first.superseded_at) == (False, NOW + timedelta(hours=1))
    assert second.is_current is True
    assert list(Decision.objects.filter(category="platform").values_list("value", flat=True)) == ["Circle", "Discord"]


def test_decisions_in_other_categories_stay_current(creator):
    project = project_for(creator)
    decision_record(project=project, category="platform", option="discord", now=NOW)
    decision_record(project=project, category="content", option="daily-prompts", now=NOW)

    assert Decision.objects.filter(is_current=True).count() == 2


def test_the_database_keeps_one_current_decision_per_category(creator):
    project = project_for(creator)
    decision_record(project=project, category="platform", option="discord", now=NOW)

    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(project=project, category="platform", value="Circle", confidence=1,
                                source="user", created_at=NOW)


def test_a_pricing_decision_states_the_recommended_prices(creator):
    decision = decision_record(project=project_for(creator), category="pricing", option="two-tiers", now=NOW)

    assert decision.value == "Core and premium tiers: 79.00 USD a month (premium 237.00 USD)"
    assert decision.data["recommendation"]["members"] == 40


@pytest.mark.parametrize(("category", "option", "field"), [("platform", "myspace", "option"),
                                                           ("mood", "happy", "category")])
def test_a_decision_outside_the_playbook_is_refused(creator, category, option, field):
    with pytest.raises(DecisionInvalid) as refused:
        decision_record(project=project_for(creator), category=category, option=option, now=NOW)

    assert refused.value.field == field
    assert not Decision.objects.exists()
