"""A tenant past 80 % of a monthly quota last month and again this month is suggested an upgrade, once a month."""

from datetime import timedelta

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from billing.models import TenantPlan
from metering.limits.upgrades import quota_pressure_list, upgrade_suggestions_send
from notifications.categories import Category
from notifications.models import Notification
from tests.support.clock import NOW
from tests.support.factories import PlanQuotaFactory
from tests.support.usage import api_calls

pytestmark = pytest.mark.django_db

LAST_MONTH = NOW - timedelta(days=31)  # 20 October


@pytest.fixture
def ten_call_quota(tenant_alpha):
    plan = PlanQuotaFactory(meter_code="api_calls", monthly_limit=10).plan
    TenantPlan.objects.update_or_create(tenant=tenant_alpha, defaults={"plan": plan})


def suggestions(tenant) -> list[Notification]:
    with schema_context(tenant.schema_name):
        return list(Notification.objects.filter(category=Category.UPGRADE_SUGGESTION))


def test_past_80_percent_two_months_in_a_row_suggests_an_upgrade(tenant_alpha, ten_call_quota, frozen_now,
                                                                  django_capture_on_commit_callbacks):
    api_calls(tenant_alpha, 8, at=LAST_MONTH)
    api_calls(tenant_alpha, 9)

    with django_capture_on_commit_callbacks(execute=True):
        assert upgrade_suggestions_send(now=NOW) == 1

    [suggestion] = suggestions(tenant_alpha)
    assert "80% of your monthly api_calls quota (10) last month and 90% so far this month" in suggestion.body
    assert suggestion.link == "/billing/"
    assert len(mail.outbox) == 1


def test_the_daily_job_suggests_once_a_month(tenant_alpha, ten_call_quota, frozen_now,
                                             django_capture_on_commit_callbacks):
    api_calls(tenant_alpha, 8, at=LAST_MONTH)
    api_calls(tenant_alpha, 9)

    with django_capture_on_commit_callbacks(execute=True):
        upgrade_suggestions_send(now=NOW)
        again = upgrade_suggestions_send(now=NOW + timedelta(days=1))

    assert again == 0 and len(suggestions(tenant_alpha)) == 1 and len(mail.outbox) == 1


def test_one_month_past_80_percent_is_not_enough(tenant_alpha, ten_call_quota, frozen_now):
    api_calls(tenant_alpha, 7, at=LAST_MONTH)
    api_calls(tenant_alpha, 10)

    assert quota_pressure_list(now=NOW) == []


def test_a_tenant_without_a_quota_is_never_suggested(tenant_alpha, tenant_beta, ten_call_quota, frozen_now):
    api_calls(tenant_beta, 50, at=LAST_MONTH)
    api_calls(tenant_beta, 50)

    assert quota_pressure_list(now=NOW) == []


def test_the_suggestions_run_daily():
    from django_celery_beat.models import PeriodicTask

    job = PeriodicTask.objects.get(task="metering.upgrade_suggestions_send")

    assert (job.crontab.minute, job.crontab.hour) == ("0", "9")
