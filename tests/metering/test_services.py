from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.db import connection

from metering.models import Meter, UsageRollup
from metering.services import event_ingest, usage_partitions_ensure

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=timezone.utc)


def stored_events(tenant) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT meter_code, transaction_id, \"timestamp\" FROM metering_usageevent "
                       "WHERE tenant_id = %s ORDER BY transaction_id", [tenant.pk])
        return cursor.fetchall()


def ingest(tenant, events, now=NOW):
    return event_ingest(tenant=tenant, events=events, now=now)


def test_a_valid_event_is_stored_and_rolled_up(tenant_alpha):
    result = ingest(tenant_alpha, [{"transaction_id": "t1", "meter": "ai_input_tokens",
                                    "timestamp": "2026-11-20T12:10:00Z", "properties": {"tokens": 120}}])

    assert (result.accepted, result.duplicates, result.rejected) == (1, 0, [])
    assert stored_events(tenant_alpha) == [("ai_input_tokens", "t1", datetime(2026, 11, 20, 12, 10, tzinfo=timezone.utc))]
    rollup = UsageRollup.objects.get(tenant=tenant_alpha, meter_code="ai_input_tokens")
    assert (rollup.hour, rollup.event_count, rollup.value_sum) == (datetime(2026, 11, 20, 12, tzinfo=timezone.utc), 1, Decimal(120))


def test_a_retry_with_another_timestamp_is_a_duplicate_and_not_counted_twice(tenant_alpha):
    ingest(tenant_alpha, [{"transaction_id": "t1", "meter": "api_calls", "timestamp": "2026-11-20T12:00:00Z",
                           "properties": {"billable": True}}])

    retry = ingest(tenant_alpha, [{"transaction_id": "t1", "meter": "api_calls", "timestamp": "2026-11-01T08:00:00Z",
                                   "properties": {"billable": True}}])

    assert (retry.accepted, retry.duplicates) == (1, 1)
    assert len(stored_events(tenant_alpha)) == 1
    assert sum(r.event_count for r in UsageRollup.objects.filter(tenant=tenant_alpha)) == 1


def test_duplicates_inside_one_batch_count_once(tenant_alpha):
    event = {"transaction_id": "same", "meter": "coach_messages"}

    result = ingest(tenant_alpha, [event, event, dict(event)])

    assert (result.accepted, result.duplicates) == (3, 2)
    assert len(stored_events(tenant_alpha)) == 1


def test_transaction_ids_are_per_tenant(tenant_alpha, tenant_beta):
    ingest(tenant_alpha, [{"transaction_id": "shared", "meter": "coach_messages"}])

    result = ingest(tenant_beta, [{"transaction_id": "shared", "meter": "coach_messages"}])

    assert result.duplicates == 0
    assert len(stored_events(tenant_beta)) == 1


@pytest.mark.parametrize(("event", "code"), [
    ("not an object", "invalid_event"),
    ({"meter": "api_calls"}, "missing_field"),
    ({"transaction_id": "", "meter": "api_calls"}, "missing_field"),
    ({"transaction_id": "x" * 256, "meter": "api_calls"}, "invalid_field"),
    ({"transaction_id": "t", "meter": "nope"}, "unknown_meter"),
    ({"transaction_id": "t"}, "missing_field"),
    ({"transaction_id": "t", "meter": "api_calls", "timestamp": "yesterday"}, "invalid_field"),
    ({"transaction_id": "t", "meter": "api_calls", "timestamp": "2026-11-20T12:00:00"}, "invalid_field"),
    ({"transaction_id": "t", "meter": "api_calls", "timestamp": "2026-10-15T12:00:00Z"}, "timestamp_out_of_range"),
    ({"transaction_id": "t", "meter": "api_calls", "timestamp": "2026-11-20T12:36:00Z"}, "timestamp_out_of_range"),
    ({"transaction_id": "t", "meter": "api_calls", "properties": [1]}, "invalid_field"),
    ({"transaction_id": "t", "meter": "api_calls", "properties": {"blob": "x" * 4100}}, "properties_too_large"),
    ({"transaction_id": "t", "meter": "ai_input_tokens", "properties": {"tokens": "12"}}, "invalid_value"),
    ({"transaction_id": "t", "meter": "ai_input_tokens", "properties": {"tokens": True}}, "invalid_value"),
    ({"transaction_id": "t", "meter": "ai_input_tokens", "properties": {}}, "invalid_value"),
    ({"transaction_id": "t", "meter": "api_calls", "extra": 1}, "unknown_field"),
    ({"transaction_id": "t\x00", "meter": "api_calls"}, "invalid_field"),
    ({"transaction_id": "t", "meter": "api_calls", "properties": {"a": ["x\x00"]}}, "invalid_value"),
    ({"transaction_id": "t", "meter": "api_calls", "properties": {"a\x00": 1}}, "invalid_value"),
    ({"transaction_id": "t", "meter": "ai_input_tokens", "properties": {"tokens": 1.7e308}}, "invalid_value"),
    ({"transaction_id": "t", "meter": "ai_input_tokens", "properties": {"tokens": float("nan")}}, "invalid_value"),
])
def test_invalid_events_are_rejected_with_their_index_and_reason(tenant_alpha, event, code):
    result = ingest(tenant_alpha, [{"transaction_id": "ok", "meter": "coach_messages"}, event])

    assert result.accepted == 1
    assert [(rejection.index, rejection.code) for rejection in result.rejected] == [(1, code)]
    assert [row[1] for row in stored_events(tenant_alpha)] == ["ok"]


def test_a_literal_backslash_u0000_text_is_not_a_nul(tenant_alpha):
    result = ingest(tenant_alpha, [{"transaction_id": "t", "meter": "api_calls", "properties": {"a": "\\u0000"}}])

    assert result.rejected == []


def test_an_inactive_meter_is_unknown(tenant_alpha):
    Meter.objects.filter(code="coach_messages").update(is_active=False)

    result = ingest(tenant_alpha, [{"transaction_id": "t", "meter": "coach_messages"}])

    assert [rejection.code for rejection in result.rejected] == ["unknown_meter"]


def test_events_outside_a_meters_filters_are_stored_but_not_rolled_up(tenant_alpha):
    ingest(tenant_alpha, [
        {"transaction_id": "paid", "meter": "api_calls", "properties": {"billable": True, "status": 200}},
        {"transaction_id": "free", "meter": "api_calls", "properties": {"billable": False, "status": 401}},
    ])

    assert len(stored_events(tenant_alpha)) == 2
    assert UsageRollup.objects.get(tenant=tenant_alpha, meter_code="api_calls").event_count == 1


def test_partitions_are_created_ahead_and_idempotently(db):
    first = usage_partitions_ensure(today=datetime(2031, 1, 15).date(), months_back=0, months_ahead=1)
    again = usage_partitions_ensure(today=datetime(2031, 1, 15).date(), months_back=0, months_ahead=1)

    assert first == ["metering_usageevent_y2031m01", "metering_usageevent_y2031m02"]
    assert again == []
