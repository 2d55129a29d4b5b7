"""Staff pages of metering on a tenant's host: the Usage page (this month per meter against the plan's quotas,
the last 30 days day by day, this month's API calls per endpoint, and the AI-token wallet). Every figure comes
from metering's selectors for `request.tenant` only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.permissions import Action, staff_action_required, user_can
from billing.selectors import Quota
from metering.models import Meter
from metering.usage.charts import BarChart, bar_chart, endpoint_chart, quantity_format
from metering.usage.selectors import (
    MeterSummary,
    api_calls_by_endpoint,
    usage_percent_whole,
    usage_series,
    usage_summary,
)
from metering.wallets.selectors import wallet_entry_list, wallet_summary
from tenants.models import Tenant

CHART_DAYS = 30
# Latest wallet entries shown on the Usage page (the Wallet page has the ledger).
WALLET_ENTRIES_SHOWN = 5
# From this share of a quota on, the bar turns to a warning colour.
NEAR_QUOTA_PERCENT = 80

# What "usage this month" means for each aggregation, as the page words it.
PERIOD_PHRASES = {
    Meter.Aggregation.COUNT: "this month",
    Meter.Aggregation.SUM: "this month",
    Meter.Aggregation.MAX: "peak this month",
    Meter.Aggregation.UNIQUE_COUNT: "distinct this month",
    Meter.Aggregation.LATEST: "latest this month",
}


@dataclass(frozen=True)
class MeterUsage:
    meter: Meter
    used: Decimal
    quota: Quota | None
    # Whole percent of the quota used, floored (so 100 means reached); 0 without a quota.
    percent: int
    chart: BarChart

    @property
    def used_display(self) -> str:
        return quantity_format(self.used)

    @property
    def period_phrase(self) -> str:
        return PERIOD_PHRASES[self.meter.aggregation]

    @property
    def limit_display(self) -> str:
        return quantity_format(self.quota.monthly_limit) if self.quota else ""

    @property
    def percent_display(self) -> str:
        return "<1%" if self.percent == 0 and self.used > 0 else f"{self.percent}%"

    @property
    def bar_percent(self) -> int:
        return min(max(self.percent, 0), 100)

    @property
    def state(self) -> str:
        if self.percent >= 100:
            return "over"
        return "near" if self.percent >= NEAR_QUOTA_PERCENT else "ok"


@staff_action_required(Action.USE_PRODUCT)
@require_GET
def usage_page(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    now = timezone.now().astimezone(dt_timezone.utc)
    summary = usage_summary(tenant=tenant, now=now)
    month_start, month_end = summary.period_start, summary.period_end
    rows = [_meter_usage(tenant=tenant, item=item, now=now) for item in summary.meters]
    # Meters the plan caps come first: they are the ones that can stop a request.
    rows.sort(key=lambda row: (row.quota is None, row.meter.name.lower()))
    endpoints = api_calls_by_endpoint(tenant=tenant, start=month_start, end=month_end)
    # Everyone sees the balance their AI calls draw on; the ledger and buying belong to billing roles.
    can_view_billing = user_can(request.user, Action.VIEW_BILLING)
    return render(request, "metering/usage.html", {
        "active_section": "usage",
        "plan_name": summary.plan_name,
        "month_start": month_start,
        "month_end": month_end,
        "today": now,
        "chart_days": CHART_DAYS,
        "rows": rows,
        "any_usage_this_month": any(row.used for row in rows),
        "endpoint_chart": endpoint_chart(endpoints),
        "endpoint_rows": endpoints,
        "wallet": wallet_summary(tenant=tenant, now=now),
        "can_view_billing": can_view_billing,
        "wallet_entries": list(wallet_entry_list(tenant=tenant)[:WALLET_ENTRIES_SHOWN]) if can_view_billing else [],
    })


def _meter_usage(*, tenant: Tenant, item: MeterSummary, now: datetime) -> MeterUsage:
    tomorrow = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    series = usage_series(tenant=tenant, meter=item.meter, start=tomorrow - timedelta(days=CHART_DAYS), end=tomorrow,
                          granularity="day")
    # The page shows whole percents, floored (0 without a quota).
    percent = usage_percent_whole(item.percent_used) if item.percent_used is not None else 0
    return MeterUsage(meter=item.meter, used=item.used, quota=item.quota, percent=percent,
                      chart=bar_chart(series, unit=item.meter.unit))

