"""Taking snapshots: a day taken twice is replaced, never doubled; the daily job takes the day that ended; a day
whose previous day was never taken still has its movements; the beat job exists; churn risk reads the tenant's
team from its schema and its usage from the rollups."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from billing.analytics.services import churn_risks_refresh, revenue_backfill, revenue_snapshot_daily
from billing.models import RevenueDay, RevenueMoneyDay, RevenueSnapshot, SubscriptionRevenueDay, TenantChurnRisk
from tests.support.billing import calls_record, subscription_started
from tests.support.factories import MeterFactory, PlanFactory, PriceFactory, StaffUserFactory

D = Decimal
JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)
JAN_5_2AM = datetime(2026, 1, 5, 2, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscribed(tenant_alpha, tenant_beta):
    """alpha on Pro yearly (1,200.00: 100.00 a month) and beta on Starter (20.00), both since Jan 1 2026."""
    plan = PlanFactory(code="svc-pro")
    subscription_started(tenant_alpha, PriceFactory(plan=plan, code="svc-pro-year", interval="year",
                                                    fixed_amount=D("1200.00")), at=JAN_1)
    subscription_started(tenant_beta, PriceFactory(plan=plan, code="svc-starter", fixed_amount=D("20.00")), at=JAN_1)


def rows() -> tuple:
    return (SubscriptionRevenueDay.objects.count(), RevenueDay.objects.count(), RevenueMoneyDay.objects.count(),
            list(RevenueDay.objects.values_list("day", "mrr", "new_mrr")))


def test_a_day_snapshotted_twice_is_replaced_never_doubled(subscribed):
    revenue_backfill(since=date(2026, 1, 1), now=JAN_5_2AM)
    first = rows()
    revenue_backfill(since=date(2026, 1, 1), now=JAN_5_2AM)
    revenue_snapshot_daily(now=JAN_5_2AM)
    assert rows() == first
    # Jan 1 to Jan 4, two subscriptions a day; 120.00 MRR, all of it new on Jan 1.
    assert first[0] == 8
    assert first[3][0] == (date(2026, 1, 1), D(120), D(120))
    assert RevenueSnapshot.objects.count() == 4


def test_the_daily_job_snapshots_the_day_that_ended(subscribed):
    run = revenue_snapshot_daily(now=JAN_5_2AM)
    assert run.days == [date(2026, 1, 4)]
    assert list(RevenueSnapshot.objects.values_list("day", flat=True)) == [date(2026, 1, 4)]


def test_a_day_whose_previous_day_was_not_taken_is_measured_against_it_all_the_same(subscribed):
    revenue_snapshot_daily(now=datetime(2026, 1, 2, 2, tzinfo=UTC))
    # Jan 1 alone: Dec 31 (never taken) is computed, so the 120.00 started on Jan 1 is new MRR.
    assert RevenueDay.objects.get(day=date(2026, 1, 1), currency="USD").new_mrr == D(120)
    revenue_snapshot_daily(now=JAN_5_2AM)
    # Jan 4 against Jan 3 (not taken, computed): nothing moved.
    assert RevenueDay.objects.get(day=date(2026, 1, 4), currency="USD").new_mrr == D(0)


def test_the_backfill_command_snapshots_every_day_since_the_date(subscribed, capsys, time_machine):
    time_machine.move_to(JAN_5_2AM)
    call_command("revenue_backfill", "--since", "2026-01-02")
    assert sorted(RevenueSnapshot.objects.values_list("day", flat=True)) == [
        date(2026, 1, 2), date(2026, 1, 3), date(2026, 1, 4)]
    assert "days snapshotted: 3" in capsys.readouterr().out


def test_the_snapshot_job_runs_every_day_at_two_utc():
    task = PeriodicTask.objects.get(task="billing.revenue_snapshot_daily")
    assert (task.crontab.minute, task.crontab.hour, str(task.crontab.timezone)) == ("0", "2", "UTC")


def test_churn_risk_reads_the_team_from_the_tenants_schema_and_usage_from_the_rollups(subscribed, tenant_alpha,
                                                                                       tenant_beta):
    StaffUserFactory(tenant=tenant_beta)
    meter = MeterFactory(code="svc_tokens", aggregation="count")
    for day in (2, 3):
        calls_record(tenant_beta, meter, 1, at=datetime(2026, 1, day, 12, tzinfo=UTC))
    revenue_backfill(since=date(2026, 1, 1), now=JAN_5_2AM)
    risks = {risk.tenant_id: risk for risk in TenantChurnRisk.objects.all()}
    alpha, beta = risks[tenant_alpha.pk], risks[tenant_beta.pk]
    # alpha: only its owner (12.5), no usage at all (37.5) and so nothing beyond the API (12.5): 62.5, high.
    assert (alpha.members, alpha.active_days, alpha.score, alpha.level) == (1, 0, D("62.5"), "high")
    # beta: owner + one member; 2 active days (1 - 2/10 = 0.8 of 37.5 = 30) on a newer meter: 30, medium.
    assert (beta.members, beta.active_days, beta.meters_used, beta.score, beta.level) == (
        2, 2, ["svc_tokens"], D("30.0"), "medium")
    assert churn_risks_refresh(day=date(2026, 1, 4)).scored == 2
