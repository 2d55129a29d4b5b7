import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from metering.models import Meter, UsageRollup
from metering.usage.services import MeterDefinitionFrozen, event_ingest, meter_update, usage_partitions_ensure
from tenants.models import Tenant
from tests.support.tenants import tenant_metering_purge

# No module-wide django_db mark: the race test below commits for real (committed_db); every other test asks
# for the database through its fixtures (db, tenant_alpha).
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


# --- Who may write a meter, negative values --------------------------------------------------------

@pytest.mark.parametrize("code", ["api_calls", "ai_input_tokens", "ai_output_tokens", "coach_messages"])
def test_events_sent_by_the_tenant_are_refused_on_platform_meters(tenant_alpha, code):
    result = event_ingest(tenant=tenant_alpha, events=[{"transaction_id": "t", "meter": code,
                                                        "properties": {"tokens": 5}}], now=NOW, sent_by_tenant=True)

    assert [(rejection.index, rejection.code) for rejection in result.rejected] == [(0, "meter_not_writable")]
    assert stored_events(tenant_alpha) == []


def test_the_platforms_own_writers_still_record_platform_meters(tenant_alpha):
    result = ingest(tenant_alpha, [{"transaction_id": "ai:r1:output", "meter": "ai_output_tokens",
                                    "properties": {"tokens": 42}}])

    assert (result.accepted, result.rejected) == (1, [])


def test_negative_values_accepted_only_where_ops_allowed(tenant_alpha):
    Meter.objects.create(code="credits_used", name="Credits", aggregation="sum", event_property="n",
                         allow_negative=True)
    events = [{"transaction_id": "seconds", "meter": "compute_seconds", "properties": {"seconds": -30}},
              {"transaction_id": "storage", "meter": "storage_gb", "properties": {"gb": -1}},
              {"transaction_id": "credits", "meter": "credits_used", "properties": {"n": -2.5}}]

    result = ingest(tenant_alpha, events)

    assert [(rejection.index, rejection.code) for rejection in result.rejected] == [
        (0, "negative_value"), (1, "negative_value")]
    assert UsageRollup.objects.get(tenant=tenant_alpha, meter_code="credits_used").value_sum == Decimal("-2.5")


def test_a_zero_value_is_not_negative(tenant_alpha):
    result = ingest(tenant_alpha, [{"transaction_id": "t", "meter": "compute_seconds",
                                    "properties": {"seconds": -0.0}}])

    assert result.rejected == []


def test_the_seeded_meters_accept_no_negative_values_and_only_the_platform_writes_its_own(db):
    meters = {meter.code: meter for meter in Meter.objects.filter(code__in=[
        "api_calls", "ai_input_tokens", "ai_output_tokens", "coach_messages", "compute_seconds", "storage_gb"])}

    assert {code for code, meter in meters.items() if meter.platform_owned} == {
        "api_calls", "ai_input_tokens", "ai_output_tokens", "coach_messages"}
    assert not any(meter.allow_negative for meter in meters.values())


# --- Values the database would refuse: rejected alone, the batch stored ----------------------------

@pytest.fixture
def active_users(db) -> Meter:
    return Meter.objects.create(code="active_users", name="Users", aggregation="unique_count", event_property="user")


def test_a_unique_count_value_over_255_characters_is_rejected_and_the_rest_of_the_batch_stored(tenant_alpha,
                                                                                              active_users):
    events = [{"transaction_id": f"u{n}", "meter": "active_users", "properties": {"user": f"user-{n}"}}
              for n in range(999)]
    events.insert(500, {"transaction_id": "long", "meter": "active_users", "properties": {"user": "x" * 256}})

    result = ingest(tenant_alpha, events)

    assert result.accepted == 999
    assert [(rejection.index, rejection.code) for rejection in result.rejected] == [(500, "invalid_value")]
    assert "255 characters" in result.rejected[0].message


@pytest.mark.parametrize("value", ["x" * 255, 2**63 - 1, True])
def test_unique_count_values_up_to_255_characters_integers_and_booleans_are_stored(tenant_alpha, active_users, value):
    result = ingest(tenant_alpha, [{"transaction_id": "t", "meter": "active_users", "properties": {"user": value}}])

    assert (result.accepted, result.rejected) == (1, [])


@pytest.mark.parametrize("value", [1e300, 1e-300, 0.5])
def test_a_float_unique_count_value_whose_text_could_exceed_255_characters_is_rejected(tenant_alpha, active_users,
                                                                                     value):
    result = ingest(tenant_alpha, [{"transaction_id": "t", "meter": "active_users", "properties": {"user": value}}])

    assert [rejection.code for rejection in result.rejected] == ["invalid_value"]


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_nan_or_infinity_in_any_property_is_rejected_not_a_database_error(tenant_alpha, value):
    result = ingest(tenant_alpha, [{"transaction_id": "ok", "meter": "api_calls"},
                                   {"transaction_id": "t", "meter": "api_calls", "properties": {"note": value}}])

    assert result.accepted == 1
    assert [(rejection.index, rejection.code) for rejection in result.rejected] == [(1, "invalid_value")]


# --- Meter definitions ------------------------------------------------------------------------------

def test_meter_definition_frozen_once_events_exist(tenant_alpha):
    ingest(tenant_alpha, [{"transaction_id": "t", "meter": "compute_seconds", "properties": {"seconds": 3}}])
    meter = Meter.objects.get(code="compute_seconds")

    with pytest.raises(MeterDefinitionFrozen) as frozen:
        meter_update(meter=meter, data={"aggregation": "max", "event_property": "cpu", "filters": {"x": 1},
                                        "name": "CPU"})

    assert set(frozen.value.message_dict) == {"aggregation", "event_property", "filters"}
    assert "create a new meter" in frozen.value.message_dict["aggregation"][0]
    meter.refresh_from_db()
    assert (meter.aggregation, meter.event_property, meter.filters, meter.name) == ("sum", "seconds", {},
                                                                                    "Compute seconds")


def test_meter_definition_frozen_by_another_tenants_events(tenant_alpha, tenant_beta):
    ingest(tenant_beta, [{"transaction_id": "t", "meter": "storage_gb", "properties": {"gb": 3}}])

    with pytest.raises(MeterDefinitionFrozen):
        meter_update(meter=Meter.objects.get(code="storage_gb"), data={"aggregation": "max"})


def test_a_meter_with_events_keeps_its_other_fields_editable(tenant_alpha):
    ingest(tenant_alpha, [{"transaction_id": "t", "meter": "compute_seconds", "properties": {"seconds": 3}}])
    meter = Meter.objects.get(code="compute_seconds")

    meter_update(meter=meter, data={"name": "CPU seconds", "unit": "s", "aggregation": "sum",
                                    "allow_negative": True, "is_active": False})

    meter.refresh_from_db()
    assert (meter.name, meter.unit, meter.allow_negative, meter.is_active) == ("CPU seconds", "s", True, False)


def test_meter_definition_editable_before_first_event(tenant_alpha):
    meter = Meter.objects.get(code="compute_seconds")

    meter_update(meter=meter, data={"aggregation": "max", "event_property": "cpu", "filters": {"region": "eu"}})

    meter.refresh_from_db()
    assert (meter.aggregation, meter.event_property, meter.filters) == ("max", "cpu", {"region": "eu"})


def test_an_event_outside_the_meters_filters_still_freezes_its_definition(tenant_alpha):
    ingest(tenant_alpha, [{"transaction_id": "free", "meter": "api_calls", "properties": {"billable": False}}])

    with pytest.raises(MeterDefinitionFrozen):
        meter_update(meter=Meter.objects.get(code="api_calls"), data={"filters": {}})


def test_a_meters_code_cannot_be_changed_by_the_service(db):
    with pytest.raises(ValidationError):
        meter_update(meter=Meter.objects.get(code="storage_gb"), data={"code": "storage"})


def test_an_invalid_meter_definition_is_refused(db):
    with pytest.raises(ValidationError) as invalid:
        meter_update(meter=Meter.objects.get(code="coach_messages"), data={"aggregation": "sum"})

    assert "event_property" in invalid.value.message_dict


def test_first_event_racing_a_definition_change_is_rolled_up_under_the_new_definition(committed_db):
    alpha = Tenant.objects.get(slug="alpha")
    meter = Meter.objects.create(code="race_meter", name="Race", aggregation="count")
    changed, release = threading.Event(), threading.Event()
    results = []

    def change() -> None:
        try:
            with transaction.atomic():
                meter_update(meter=meter, data={"aggregation": "sum", "event_property": "n"})
                changed.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    def send() -> None:
        try:
            results.append(event_ingest(tenant=alpha, events=[
                {"transaction_id": "first", "meter": "race_meter", "properties": {"n": 5}}]))
        finally:
            connection.close()

    changer, sender = threading.Thread(target=change), threading.Thread(target=send)
    try:
        changer.start()
        assert changed.wait(timeout=10)
        sender.start()
        sender.join(timeout=0.5)
        held_off = sender.is_alive()
        release.set()
        changer.join(timeout=10)
        sender.join(timeout=10)

        assert held_off
        assert results[0].accepted == 1
        rollup = UsageRollup.objects.get(tenant=alpha, meter_code="race_meter")
        assert (rollup.event_count, rollup.value_sum) == (1, Decimal(5))
    finally:
        release.set()
        tenant_metering_purge(alpha)
        Meter.objects.filter(code="race_meter").delete()
