import uuid
from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from billing.models import Plan, TenantPlan
from config.redis_guard import redis_connection
from metering.limits.quotas import (
    API_CALLS,
    QuotaExceeded,
    QuotaState,
    api_calls_quota_state,
    counter_key,
    quota_refusal,
)
from metering.models import UsageAlert
from metering.usage.selectors import month_bounds
from metering.usage.services import event_ingest
from tests.support.api import api_client, api_key_for
from tests.support.factories import PlanQuotaFactory

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


@pytest.fixture
def quota_plan(tenant_alpha, settings):
    """Alpha on a plan with a 5-call monthly quota; limits on, with counters of this test's own."""
    settings.RATE_LIMITS_ENABLED = True
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"quota-test-{uuid.uuid4().hex}"}}

    def assign(*, limit: int, behaviour: str) -> Plan:
        plan = PlanQuotaFactory(meter_code=API_CALLS, monthly_limit=limit, behaviour=behaviour).plan
        TenantPlan.objects.update_or_create(tenant=tenant_alpha, defaults={"plan": plan})
        return plan

    return assign


def calls(client, count: int) -> list:
    return [client.get("/api/v1/tenant") for _ in range(count)]


def test_a_hard_quota_refuses_calls_once_used_up(tenant_alpha, quota_plan):
    quota_plan(limit=5, behaviour="hard")
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))

    responses = calls(client, 6)

    assert [response.status_code for response in responses] == [200] * 5 + [429]
    error = responses[-1].json()["error"]
    assert error["code"] == "quota_exceeded"
    assert (error["details"]["limit"], error["details"]["used"]) == (5, 5)
    assert int(responses[-1]["Retry-After"]) > 0


@time_machine.travel(datetime(2026, 3, 31, 23, 0, tzinfo=UTC), tick=False)
def test_a_used_up_quota_is_a_domain_error_to_retry_when_the_month_renews():
    state = QuotaState(meter_code=API_CALLS, used=5, limit=5, hard=True,
                       period_end=datetime(2026, 4, 1, tzinfo=UTC))

    error = quota_refusal(state)

    assert isinstance(error, QuotaExceeded)
    assert (error.status, error.code, error.retry_after_s) == (429, "quota_exceeded", 3600)
    assert error.details == {"meter": API_CALLS, "limit": 5, "used": 5, "renews_at": "2026-04-01T00:00:00+00:00"}


def test_a_soft_quota_warns_from_80_percent_and_keeps_serving(tenant_alpha, quota_plan):
    quota_plan(limit=5, behaviour="soft")
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))

    responses = calls(client, 7)

    assert all(response.status_code == 200 for response in responses)
    assert [response.get("X-Quota-Warning") is not None for response in responses] == [
        False, False, False, False, True, True, True]
    assert responses[-1]["X-Quota-Warning"].startswith("api_calls: 120% of 5")


def test_refused_and_failed_calls_do_not_count_against_the_quota(tenant_alpha, quota_plan):
    quota_plan(limit=2, behaviour="hard")
    client = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["read"]))
    client.post("/api/v1/api-keys", {"name": "x", "scopes": ["read"]}, content_type="application/json")

    assert [response.status_code for response in calls(client, 3)] == [200, 200, 429]


def test_the_counter_is_seeded_from_the_rollups_when_missing(tenant_alpha, quota_plan):
    quota_plan(limit=100, behaviour="hard")
    event_ingest(tenant=tenant_alpha, events=[
        {"transaction_id": f"earlier-{n}", "meter": "api_calls", "properties": {"billable": True}} for n in range(7)])

    state = api_calls_quota_state(tenant_alpha)

    assert (state.used, state.limit, state.hard) == (7, 100, True)
    start, _ = month_bounds(timezone.now())
    assert redis_connection().get(counter_key(tenant_alpha, API_CALLS, start)) == b"7"


def test_crossing_80_and_100_percent_emails_the_owners_once_each(tenant_alpha, quota_plan,
                                                              django_capture_on_commit_callbacks):
    quota_plan(limit=5, behaviour="soft")
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))

    with django_capture_on_commit_callbacks(execute=True):
        calls(client, 9)

    alerts = sorted(UsageAlert.objects.filter(tenant=tenant_alpha).values_list("threshold_percent", flat=True))
    assert alerts == [80, 100]
    assert [message.to for message in mail.outbox] == [["owner@alpha.test"], ["owner@alpha.test"]]
    assert "80%" in mail.outbox[0].subject and "100%" in mail.outbox[1].subject


def test_an_alert_is_recorded_once_per_month_even_if_crossed_twice(tenant_alpha, quota_plan):
    from metering.usage.services import usage_alert_record

    first = usage_alert_record(tenant=tenant_alpha, meter_code=API_CALLS, threshold=80, limit=5)
    again = usage_alert_record(tenant=tenant_alpha, meter_code=API_CALLS, threshold=80, limit=5)

    assert first is not None and again is None
    assert UsageAlert.objects.filter(tenant=tenant_alpha).count() == 1


def test_staff_pages_show_a_notice_after_an_alert(tenant_alpha, quota_plan, alpha_owner_client):
    from metering.usage.services import usage_alert_record

    usage_alert_record(tenant=tenant_alpha, meter_code=API_CALLS, threshold=80, limit=5)

    assert b'data-testid="usage-notice"' in alpha_owner_client.get("/").content


def test_a_tenant_without_a_quota_is_never_refused(tenant_alpha, tenant_beta, quota_plan):
    quota_plan(limit=1, behaviour="hard")
    beta = api_client(tenant_beta, api_key_for(tenant_beta))

    assert [response.status_code for response in calls(beta, 3)] == [200, 200, 200]
