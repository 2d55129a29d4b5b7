"""Usage events for tests of what pages and APIs show: ingested through the service, dated relative to NOW."""

import re
from datetime import datetime, timedelta

from metering.usage.services import event_ingest
from tests.support.clock import NOW


def api_calls(tenant, count: int, *, at: datetime = NOW - timedelta(hours=1)) -> None:
    # The seeded api_calls meter counts billable calls only.
    events = [{"transaction_id": f"call-{at.isoformat()}-{n}", "meter": "api_calls", "timestamp": at.isoformat(),
               "properties": {"billable": True}} for n in range(count)]
    result = event_ingest(tenant=tenant, events=events, now=NOW)
    assert result.accepted == count and not result.rejected


def tokens(tenant, amount: int, *, at: datetime = NOW - timedelta(hours=1)) -> None:
    event = {"transaction_id": f"tokens-{at.isoformat()}-{amount}", "meter": "ai_input_tokens",
             "timestamp": at.isoformat(), "properties": {"tokens": amount}}
    assert event_ingest(tenant=tenant, events=[event], now=NOW).accepted == 1


def shown_usage(response, meter_code: str) -> str:
    match = re.search(rf'data-meter="{meter_code}">([^<]*)<'.encode(), response.content)
    assert match, f"no figure for {meter_code}"
    return match.group(1).decode()


def meter_section(response, meter_code: str) -> str:
    html = response.content.decode()
    start = html.index(f'aria-labelledby="meter-{meter_code}-title"')
    end = html.find("</section>", start)
    return html[start:end]


def endpoint_calls(tenant, endpoint: str, method: str, statuses: list[int]) -> None:
    at = NOW - timedelta(hours=2)
    events = [{"transaction_id": f"call-{endpoint}-{method}-{n}", "meter": "api_calls", "timestamp": at.isoformat(),
               "properties": {"endpoint": endpoint, "method": method, "status": status,
                              "billable": 200 <= status < 300}}
              for n, status in enumerate(statuses)]
    assert event_ingest(tenant=tenant, events=events, now=NOW).accepted == len(statuses)


def seconds(transaction_id: str, amount: float = 1, **fields) -> dict:
    """An event of compute_seconds, a meter tenants report themselves."""
    return {"transaction_id": transaction_id, "meter": "compute_seconds", "properties": {"seconds": amount},
            **fields}
