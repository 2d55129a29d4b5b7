"""Writes on usage: event ingestion (validated in Python, stored by one SQL statement per batch), partitions."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from metering.models import Meter, UsageAlert
from metering.usage import sql
from metering.usage.selectors import active_meters, meter_has_events
from notifications.categories import Category
from notifications.services import EmailContent, notify
from tenants.models import Tenant

logger = logging.getLogger(__name__)

MAX_BATCH = 1000
MAX_PROPERTIES_BYTES = 4096
MAX_TRANSACTION_ID = 255
# A unique_count value is kept as text in a varchar(255) (metering_usageuniquevalue.value).
MAX_UNIQUE_VALUE = 255
# Rollups keep 24 integer digits; one event's value is held far below that so sums cannot overflow.
MAX_NUMERIC_VALUE = 10**15
# How far back and ahead an event's timestamp may be (Stripe's meter window).
PAST_WINDOW = timedelta(days=35)
FUTURE_WINDOW = timedelta(minutes=5)
EVENT_FIELDS = frozenset({"transaction_id", "meter", "timestamp", "properties"})


@dataclass(frozen=True)
class Rejection:
    index: int
    code: str
    message: str


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)


@dataclass(frozen=True)
class _ValidEvent:
    meter_code: str
    transaction_id: str
    timestamp: datetime
    properties_json: str


class _Rejected(Exception):
    def __init__(self, code: str, message: str):
        self.code, self.message = code, message


def event_ingest(*, tenant: Tenant, events: list, meters: dict[str, Meter] | None = None,
                 now: datetime | None = None, sent_by_tenant: bool = False) -> IngestResult:
    """Validate each event, store the valid ones exactly once and roll them up; invalid ones are reported by
    index and never block the rest. A transaction_id already seen for this tenant (within 35 days, whatever
    its timestamp) is answered as a duplicate and not counted again.

    `sent_by_tenant` marks events the tenant sent itself (the events API): those are refused on meters the
    platform writes (`meter_not_writable`), which is what the tenant is billed from. The platform's own
    writers (the AI gateway, API-call tracking) leave it off."""
    now = now or timezone.now()
    meters = meters if meters is not None else active_meters()
    result = IngestResult()
    valid: list[_ValidEvent] = []
    for index, raw in enumerate(events):
        try:
            valid.append(_event_validate(raw, meters=meters, now=now, sent_by_tenant=sent_by_tenant))
        except _Rejected as rejection:
            result.rejected.append(Rejection(index=index, code=rejection.code, message=rejection.message))
    if valid:
        inserted = _events_store(tenant=tenant, events=valid, now=now)
        result.accepted = len(valid)
        result.duplicates = len(valid) - inserted
    return result


def _event_validate(raw: object, *, meters: dict[str, Meter], now: datetime, sent_by_tenant: bool) -> _ValidEvent:
    if not isinstance(raw, dict):
        raise _Rejected("invalid_event", "An event is an object.")
    unknown = raw.keys() - EVENT_FIELDS
    if unknown:
        raise _Rejected("unknown_field", f"Unknown field: {', '.join(sorted(unknown))}.")
    transaction_id = raw.get("transaction_id")
    if not isinstance(transaction_id, str) or not transaction_id.strip():
        raise _Rejected("missing_field", "transaction_id is required (a non-empty string).")
    if len(transaction_id) > MAX_TRANSACTION_ID:
        raise _Rejected("invalid_field", f"transaction_id is longer than {MAX_TRANSACTION_ID} characters.")
    if "\x00" in transaction_id:
        raise _Rejected("invalid_field", "transaction_id must not contain NUL characters.")
    meter_code = raw.get("meter")
    if not isinstance(meter_code, str) or not meter_code:
        raise _Rejected("missing_field", "meter is required.")
    meter = meters.get(meter_code)
    if meter is None:
        raise _Rejected("unknown_meter", f"No active meter '{meter_code}'.")
    if sent_by_tenant and meter.platform_owned:
        raise _Rejected("meter_not_writable", f"Meter '{meter_code}' is recorded by Tollgate itself and cannot "
                                              "be written through the API.")
    timestamp = _timestamp_parse(raw.get("timestamp"), now=now)
    properties = raw.get("properties", {})
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        raise _Rejected("invalid_field", "properties must be an object.")
    try:
        properties_json = json.dumps(properties, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError:
        # jsonb has no NaN or Infinity (the API's parser refuses them; internal callers may not).
        raise _Rejected("invalid_value", "properties must not contain NaN, Infinity or oversized numbers.") from None
    if len(properties_json.encode()) > MAX_PROPERTIES_BYTES:
        raise _Rejected("properties_too_large", f"properties exceed {MAX_PROPERTIES_BYTES} bytes.")
    # PostgreSQL text and jsonb cannot hold NUL; the escaped form in the JSON is the cheap first check.
    if "\\u0000" in properties_json and _contains_nul(properties):
        raise _Rejected("invalid_value", "properties must not contain NUL characters.")
    _property_check(meter, properties)
    return _ValidEvent(meter_code=meter_code, transaction_id=transaction_id, timestamp=timestamp,
                       properties_json=properties_json)


def _contains_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(key) or _contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_contains_nul(item) for item in value)
    return False


def _timestamp_parse(raw: object, *, now: datetime) -> datetime:
    if raw is None:
        return now
    if not isinstance(raw, str):
        raise _Rejected("invalid_field", "timestamp must be an ISO 8601 string.")
    try:
        timestamp = datetime.fromisoformat(raw)
    except ValueError:
        raise _Rejected("invalid_field", "timestamp is not ISO 8601 (e.g. 2026-11-23T14:05:00Z).") from None
    if timestamp.tzinfo is None:
        raise _Rejected("invalid_field", "timestamp needs a timezone (e.g. Z or +00:00).")
    if timestamp < now - PAST_WINDOW:
        raise _Rejected("timestamp_out_of_range", "timestamp is more than 35 days in the past.")
    if timestamp > now + FUTURE_WINDOW:
        raise _Rejected("timestamp_out_of_range", "timestamp is more than 5 minutes in the future.")
    return timestamp


def _property_check(meter: Meter, properties: dict) -> None:
    if meter.aggregation == Meter.Aggregation.COUNT:
        return
    value = properties.get(meter.event_property)
    if meter.is_numeric:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Rejected("invalid_value", f"properties.{meter.event_property} must be a number for meter {meter.code}.")
        if value != value or not -MAX_NUMERIC_VALUE <= value <= MAX_NUMERIC_VALUE:
            raise _Rejected("invalid_value", f"properties.{meter.event_property} must be a number between "
                                             f"-{MAX_NUMERIC_VALUE:.0e} and {MAX_NUMERIC_VALUE:.0e}.")
        if value < 0 and not meter.allow_negative:
            raise _Rejected("negative_value", f"properties.{meter.event_property} must not be negative for "
                                              f"meter {meter.code}.")
    elif value is None or isinstance(value, (dict, list)):
        raise _Rejected("invalid_value", f"properties.{meter.event_property} is required for meter {meter.code}.")
    else:
        _unique_value_check(meter, value)


def _unique_value_check(meter: Meter, value: object) -> None:
    """A distinct value is stored as the text PostgreSQL gives it (at most 255 characters). A float's text is
    written out in full (1e300 is 301 digits), so distinct values are strings, integers or booleans."""
    if isinstance(value, float):
        raise _Rejected("invalid_value", f"properties.{meter.event_property} must be a string, an integer or a "
                                         f"boolean for meter {meter.code} (send ids over 2^64 as strings).")
    if not isinstance(value, bool) and len(str(value)) > MAX_UNIQUE_VALUE:
        raise _Rejected("invalid_value", f"properties.{meter.event_property} must be at most {MAX_UNIQUE_VALUE} "
                                         f"characters for meter {meter.code}.")


def _events_store(*, tenant: Tenant, events: list[_ValidEvent], now: datetime) -> int:
    params = {
        "tenant_id": tenant.pk, "now": now,
        "meters": [event.meter_code for event in events],
        "transaction_ids": [event.transaction_id for event in events],
        "timestamps": [event.timestamp for event in events],
        "properties": [event.properties_json for event in events],
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql.INGEST_BATCH, params)
        inserted, _, _ = cursor.fetchone()
    return inserted


# --- Meters -----------------------------------------------------------------------------------

# What ops may change on a meter (the code never: events, rollups and quotas refer to a meter by its code).
METER_EDITABLE_FIELDS = frozenset({"name", "unit", "aggregation", "event_property", "filters", "is_active",
                                   "platform_owned", "allow_negative"})


class MeterDefinitionFrozen(ValidationError):
    """A meter with events keeps the definition its rollups were computed under."""


@transaction.atomic
def meter_update(*, meter: Meter, data: dict[str, object]) -> Meter:
    """Change a meter's editable fields (METER_EDITABLE_FIELDS) and validate it. Its definition (aggregation,
    event property, filters) changes only while no tenant has an event on it: the rollups were computed under the
    old definition and the raw edges of a period would be read under the new one, so the two would disagree.
    Such a change means a new meter (MeterDefinitionFrozen).

    A definition change takes a SHARE lock on the event table before it checks: it waits for batches being
    stored and holds new ones off until this transaction commits, so no first event can be stored under the old
    definition between the check and the change (a waiting batch then reads the new one)."""
    unknown = data.keys() - METER_EDITABLE_FIELDS
    if unknown:
        raise ValidationError(f"Not editable on a meter: {', '.join(sorted(unknown))}.")
    meter = Meter.objects.select_for_update().get(pk=meter.pk)
    redefined = [name for name in Meter.DEFINITION_FIELDS if name in data and data[name] != getattr(meter, name)]
    if redefined:
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE metering_usageevent IN SHARE MODE")
        if meter_has_events(meter=meter):
            message = f"Meter {meter.code} already has events, so its definition is frozen: create a new meter instead."
            raise MeterDefinitionFrozen({name: message for name in redefined})
    for name, value in data.items():
        setattr(meter, name, value)
    meter.full_clean()
    meter.save()
    return meter


# --- Partitions -------------------------------------------------------------------------------

def usage_partitions_ensure(*, today: date | None = None, months_back: int = 2, months_ahead: int = 3) -> list[str]:
    """Create the monthly partitions around today (idempotent). Run at migrate time and daily by beat."""
    today = today or timezone.now().date()
    first = _month_add(today.replace(day=1), -months_back)
    created = []
    with connection.cursor() as cursor:
        for offset in range(months_back + months_ahead + 1):
            start = _month_add(first, offset)
            end = _month_add(start, 1)
            name = f"metering_usageevent_y{start.year}m{start.month:02d}"
            cursor.execute("SELECT to_regclass(%s)", [name])
            if cursor.fetchone()[0] is not None:
                continue
            cursor.execute(
                f'CREATE TABLE "{name}" PARTITION OF metering_usageevent '
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            )
            created.append(name)
    if created:
        logger.info("usage_partitions_created names=%s", ",".join(created))
    return created


def event_keys_prune(*, now: datetime | None = None) -> int:
    """Forget transaction ids received more than 35 days ago (older timestamps are refused anyway)."""
    cutoff = (now or timezone.now()) - PAST_WINDOW - timedelta(days=1)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM metering_usageeventkey WHERE received_at < %s", [cutoff])
        return cursor.rowcount


def _month_add(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)




# --- Usage alerts -----------------------------------------------------------------------------

def usage_alert_record(*, tenant: Tenant, meter_code: str, threshold: int, limit: Decimal,
                       now: datetime | None = None) -> UsageAlert | None:
    """Record that the tenant crossed `threshold` % of a monthly quota and notify its owners and admins, once per
    month and threshold. Returns None when this alert was already recorded (e.g. two processes crossed together)."""
    now = now or timezone.now()
    period_start = now.date().replace(day=1)
    with transaction.atomic():
        alert, created = UsageAlert.objects.get_or_create(
            tenant=tenant, meter_code=meter_code, period_start=period_start, threshold_percent=threshold,
            defaults={"limit": limit},
        )
        if not created:
            return None
        _usage_alert_notify(alert, tenant, now=now)
    return alert


def _usage_alert_notify(alert: UsageAlert, tenant: Tenant, *, now: datetime) -> None:
    """In the app and by email (notifications.services.notify: each person once, as their preferences allow)."""
    limit = format(Decimal(alert.limit).normalize(), "f")
    used_up = alert.threshold_percent >= 100
    delivery = notify(
        tenant=tenant, category=Category.USAGE_ALERT,
        cause=f"usage_alert:{alert.meter_code}:{alert.period_start:%Y-%m}:{alert.threshold_percent}",
        title=f"{tenant.name}: {alert.threshold_percent}% of your monthly {alert.meter_code} quota used",
        body=f"{alert.threshold_percent}% of this month's {alert.meter_code} quota ({limit}) is used."
             + (" A hard quota refuses further calls until the month ends." if used_up else ""),
        link="/usage/", now=now,
        email=EmailContent(template="metering/email/usage_alert",
                           context={"tenant": tenant, "alert": alert, "limit": limit}),
    )
    if delivery.email is not None:
        UsageAlert.objects.filter(pk=alert.pk).update(emailed_at=now)
