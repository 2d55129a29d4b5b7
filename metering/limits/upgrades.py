"""Upgrade suggestions: a tenant that used 80 % or more of a monthly quota last month and again this month (so
far) is told, once per quota and month, that a larger plan raises the limit. Run daily by a beat job
(metering.upgrade_suggestions_send); the notification centre makes each suggestion once per cause."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django_tenants.utils import get_public_schema_name

from billing.selectors import Quota, entitlements_for
from metering.models import Meter
from metering.usage.selectors import (
    active_meters,
    month_bounds,
    usage_for_period,
    usage_for_periods,
    usage_percent,
    usage_percent_whole,
)
from notifications.categories import Category
from notifications.services import notify
from tenants.models import Tenant

SUGGEST_FROM_PERCENT = 80


@dataclass(frozen=True)
class QuotaPressure:
    tenant: Tenant
    meter_code: str
    limit: Decimal
    previous_percent: int
    current_percent: int


def quota_pressure_list(*, now: datetime) -> list[QuotaPressure]:
    """The (tenant, quota) pairs at SUGGEST_FROM_PERCENT % or more both last month and this month so far, each
    against the quota of the tenant's plan today. Usage is read in two queries per meter for every tenant at once
    (usage_for_periods); a unique-count meter, whose distinct counts do not add up, one tenant at a time."""
    current_start, current_end = month_bounds(now)
    previous_start, _ = month_bounds(current_start - timedelta(days=1))
    meters = active_meters()
    quotas: dict[str, list[tuple[Tenant, Quota]]] = defaultdict(list)
    for tenant in Tenant.objects.filter(status=Tenant.Status.ACTIVE).exclude(schema_name=get_public_schema_name()):
        for quota in entitlements_for(tenant=tenant, now=now).quotas.values():
            if quota.meter_code in meters:
                quotas[quota.meter_code].append((tenant, quota))
    found = []
    for meter_code, pairs in quotas.items():
        previous, current = _usage_of_months(meters[meter_code], [tenant for tenant, _ in pairs],
                                             months=((previous_start, current_start), (current_start, current_end)))
        for index, (tenant, quota) in enumerate(pairs):
            percents = [usage_percent_whole(usage_percent(used=used[index], limit=quota.monthly_limit))
                        for used in (previous, current)]
            if min(percents) >= SUGGEST_FROM_PERCENT:
                found.append(QuotaPressure(tenant=tenant, meter_code=meter_code, limit=quota.monthly_limit,
                                           previous_percent=percents[0], current_percent=percents[1]))
    return found


def _usage_of_months(meter: Meter, tenants: list[Tenant], *,
                     months: tuple[tuple[datetime, datetime], ...]) -> list[list[Decimal]]:
    """For each month, each tenant's usage on the meter, in the tenants' order."""
    if meter.aggregation == Meter.Aggregation.UNIQUE_COUNT:
        return [[usage_for_period(tenant=tenant, meter=meter, start=start, end=end) for tenant in tenants]
                for start, end in months]
    periods = {month * len(tenants) + index: (tenant.pk, start, end)
               for month, (start, end) in enumerate(months) for index, tenant in enumerate(tenants)}
    usage = usage_for_periods(meter=meter, periods=periods)
    return [[usage[month * len(tenants) + index] for index in range(len(tenants))] for month in range(len(months))]


def upgrade_suggestions_send(*, now: datetime) -> int:
    """Suggest an upgrade to every tenant under pressure (owners and billing members); returns how many were
    suggested for the first time."""
    suggested = 0
    for pressure in quota_pressure_list(now=now):
        limit = format(pressure.limit.normalize(), "f")
        delivery = notify(
            tenant=pressure.tenant, category=Category.UPGRADE_SUGGESTION,
            cause=f"upgrade:{pressure.meter_code}:{now:%Y-%m}",
            title=f"{pressure.tenant.name}: your {pressure.meter_code} quota is getting tight",
            body=f"You used {pressure.previous_percent}% of your monthly {pressure.meter_code} quota ({limit}) "
                 f"last month and {pressure.current_percent}% so far this month. A larger plan raises the limit.",
            link="/billing/", now=now)
        suggested += bool(delivery.notified or delivery.email)
    return suggested
