"""Ops hear once a day when the platform's Anthropic spend for a day reaches AI_COST_ALERT_USD_PER_DAY."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail

from metering.gateway.cost_alerts import ai_cost_alert_send
from metering.gateway.selectors import ai_spend_for_period
from metering.models import AiReservationRecord
from notifications.categories import Category
from notifications.models import Notification
from tests.support.clock import NOW
from tests.support.factories import OpsUserFactory

pytestmark = pytest.mark.django_db

DAY_START = NOW.replace(hour=0)


def ai_request(tenant, *, at, model="claude-sonnet-4-6", input_tokens=0, output_tokens=0, cache_write=0,
               cache_read=0, settled=True) -> AiReservationRecord:
    usage = {"input_tokens": input_tokens, "output_tokens": output_tokens, "cache_write_tokens": cache_write,
             "cache_read_tokens": cache_read}
    return AiReservationRecord.objects.create(
        tenant=tenant, request_id=uuid.uuid4(), model=model, tokens=max(1, input_tokens + output_tokens),
        created_at=at, deadline=at + timedelta(minutes=11), usage=usage,
        settled_at=at + timedelta(seconds=5) if settled else None, outcome="settled" if settled else "")


def test_the_days_spend_prices_each_kind_of_token_at_its_models_price(tenant_alpha):
    # Sonnet: 3 USD per million input, 15 output, 3.75 cache write, 0.30 cache read.
    ai_request(tenant_alpha, at=NOW, input_tokens=1_000_000, output_tokens=1_000_000, cache_write=1_000_000,
               cache_read=1_000_000)
    ai_request(tenant_alpha, at=NOW, model="claude-haiku-4-5", output_tokens=2_000_000)  # 10 USD
    ai_request(tenant_alpha, at=NOW, output_tokens=1_000_000, settled=False)  # still running: not yet
    ai_request(tenant_alpha, at=DAY_START - timedelta(seconds=1), output_tokens=1_000_000)  # the day before

    spend = ai_spend_for_period(start=DAY_START, end=DAY_START + timedelta(days=1))

    assert spend == {"USD": Decimal("32.05")}


def test_ops_are_alerted_once_when_a_days_spend_reaches_the_threshold(tenant_alpha, settings,
                                                                      django_capture_on_commit_callbacks):
    settings.AI_COST_ALERT_USD_PER_DAY = "50"
    operator = OpsUserFactory()
    ai_request(tenant_alpha, at=NOW, output_tokens=3_400_000)  # 51 USD

    with django_capture_on_commit_callbacks(execute=True):
        first = ai_cost_alert_send(now=NOW)
        second = ai_cost_alert_send(now=NOW + timedelta(hours=1))

    assert first == [NOW.date()] and second == []
    [alert] = Notification.objects.filter(category=Category.AI_COST_ALERT)
    assert alert.recipient_id == operator.pk and "51.00 USD" in alert.title
    assert [message.to for message in mail.outbox] == [[operator.email]]


def test_spend_under_the_threshold_alerts_nobody(tenant_alpha, settings):
    settings.AI_COST_ALERT_USD_PER_DAY = "50"
    OpsUserFactory()
    ai_request(tenant_alpha, at=NOW, output_tokens=3_000_000)  # 45 USD

    assert ai_cost_alert_send(now=NOW) == []
    assert not Notification.objects.filter(category=Category.AI_COST_ALERT).exists()


def test_the_first_check_after_midnight_still_alerts_for_the_day_before(tenant_alpha, settings):
    settings.AI_COST_ALERT_USD_PER_DAY = "50"
    OpsUserFactory()
    late = DAY_START - timedelta(minutes=10)
    ai_request(tenant_alpha, at=late, output_tokens=4_000_000)  # 60 USD, in the last hour of the 19th

    assert ai_cost_alert_send(now=DAY_START + timedelta(minutes=7)) == [late.date()]


def test_the_check_runs_every_hour():
    from django_celery_beat.models import PeriodicTask

    job = PeriodicTask.objects.get(task="metering.ai_cost_alert_send")

    assert (job.crontab.minute, job.crontab.hour) == ("7", "*")
