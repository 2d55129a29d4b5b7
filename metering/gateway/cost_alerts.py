"""The ops alert on the platform's AI spend: once the Anthropic cost of a UTC day's requests reaches
AI_COST_ALERT_USD_PER_DAY, ops are notified, once for that day. Checked hourly by a beat job
(metering.ai_cost_alert_send), which looks at yesterday too, so spend in a day's last hour is not missed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings

from config.money import Money, money_format
from metering.gateway.selectors import ai_spend_for_period
from notifications.categories import Category
from notifications.services import notify_ops

CURRENCY = "USD"  # model prices are in USD; spend in another currency is not converted


def ai_cost_alert_send(*, now: datetime) -> list[date]:
    """Notify ops of each day (yesterday, today) whose spend reached the threshold; returns the days whose alert
    this call created."""
    threshold = Decimal(settings.AI_COST_ALERT_USD_PER_DAY)
    today = now.astimezone(UTC).date()
    alerted = []
    for day in (today - timedelta(days=1), today):
        start = datetime.combine(day, time.min, tzinfo=UTC)
        spend = ai_spend_for_period(start=start, end=start + timedelta(days=1)).get(CURRENCY, Decimal(0))
        if spend < threshold:
            continue
        spent, limit = money_format(Money(spend, CURRENCY)), money_format(Money(threshold, CURRENCY))
        delivery = notify_ops(
            category=Category.AI_COST_ALERT, cause=f"ai_cost:{day:%Y-%m-%d}",
            title=f"AI spend reached {spent} on {day:%d %b %Y}",
            body=f"The platform's Anthropic cost for requests made on {day:%d %b %Y} (UTC) is {spent}, over the "
                 f"daily alert threshold of {limit} (AI_COST_ALERT_USD_PER_DAY). The AI reservations list shows "
                 "which tenants and models.",
            link="/admin/metering/aireservationrecord/", now=now)
        if delivery.notified or delivery.email:
            alerted.append(day)
    return alerted
