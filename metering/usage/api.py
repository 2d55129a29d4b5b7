"""Usage API: send events, read usage over time and this month's summary against the plan."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal

from django.db import DatabaseError
from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Action
from config.api.errors import ApiError
from config.api.idempotency import idempotent
from config.api.schema import IDEMPOTENCY_KEY_HEADER, error_responses, scopes_note
from metering.models import Meter
from metering.usage.selectors import GRANULARITIES, MeterSummary, active_meters, usage_series, usage_summary
from metering.usage.services import MAX_BATCH, event_ingest

MAX_SERIES_POINTS = 2000
# The range usage can be asked for: events are at most 35 days old when received, and Python's and PostgreSQL's
# dates end in year 9999, where a bucket's end (or a default 30 days before) would overflow.
EARLIEST_MOMENT = datetime(2000, 1, 1, tzinfo=dt_timezone.utc)
LATEST_MOMENT = datetime(2100, 1, 1, tzinfo=dt_timezone.utc)


def decimal_text(value: Decimal) -> str:
    """Usage as an exact decimal string without trailing zeros ("120", "0.5")."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


class MeterCodeField(serializers.CharField):
    """A meter code, documented as the list of meters the API takes at the time the schema is generated (meters
    are data ops change), so a schema-valid code is an accepted one: active meters, and for events only those
    tenants may write."""

    def __init__(self, *, tenant_writable: bool, **kwargs):
        self.tenant_writable = tenant_writable
        super().__init__(**kwargs)


class MeterCodeFieldSchema(OpenApiSerializerFieldExtension):
    target_class = MeterCodeField

    def map_serializer_field(self, auto_schema, direction) -> dict:
        try:
            meters = active_meters().values()
        except DatabaseError:
            # The schema is also generated with no migrated database (`check --deploy` at build time): then it
            # can only say what a meter code looks like.
            return {"type": "string", "maxLength": 50, "pattern": r"^[-a-zA-Z0-9_]+$"}
        codes = sorted(meter.code for meter in meters if not (self.target.tenant_writable and meter.platform_owned))
        return {"type": "string", "enum": codes}


EventSerializer = inline_serializer("UsageEvent", fields={
    "transaction_id": serializers.CharField(max_length=255, help_text="Your unique id: retries are deduplicated."),
    "meter": MeterCodeField(tenant_writable=True, help_text="A meter code, e.g. compute_seconds. Meters Tollgate "
                            "records itself (api_calls, ai_input_tokens, ai_output_tokens, coach_messages) are "
                            "refused with meter_not_writable."),
    "timestamp": serializers.DateTimeField(required=False, help_text="ISO 8601 with timezone; default now. "
                                           "At most 35 days back and 5 minutes ahead."),
    "properties": serializers.DictField(required=False, help_text="Up to 4 KB; sum/max/latest meters read a number."),
})
EventBatchSerializer = inline_serializer("UsageEventBatch", fields={
    "events": serializers.ListField(child=EventSerializer, max_length=MAX_BATCH),
})
IngestResultSerializer = inline_serializer("UsageIngestResult", fields={
    "accepted": serializers.IntegerField(help_text="Events taken, duplicates included."),
    "duplicates": serializers.IntegerField(help_text="How many of the accepted events were already known (their "
                                           "transaction_id was received before): not counted again."),
    "rejected": serializers.ListField(child=inline_serializer("UsageEventRejection", fields={
        "index": serializers.IntegerField(), "code": serializers.CharField(), "message": serializers.CharField(),
    })),
})


class EventIngestApi(APIView):
    required_scopes = {"POST": "usage:write"}
    required_actions = {"POST": Action.USE_PRODUCT}

    @extend_schema(
        operation_id="usage_events_create", summary="Send usage events",
        description=scopes_note("usage:write") + f" One event, or {{\"events\": [...]}} with up to {MAX_BATCH}. "
        "Valid events are stored even when others in the batch are rejected; a transaction_id already received "
        "(within 35 days, whatever its timestamp) counts as a duplicate and is never counted twice. "
        "Events to meters Tollgate records itself are rejected with meter_not_writable, and negative values with "
        "negative_value unless the meter allows them. Bodies up to 5 MB.",
        request=EventBatchSerializer, parameters=[IDEMPOTENCY_KEY_HEADER],
        responses={200: IngestResultSerializer, **error_responses(400, 401, 403, 409, 413, 415)},
    )
    @idempotent
    def post(self, request):
        events = _events_from(request.data)
        result = event_ingest(tenant=request.tenant, events=events, meters=active_meters(), sent_by_tenant=True)
        return Response({
            "accepted": result.accepted, "duplicates": result.duplicates,
            "rejected": [{"index": r.index, "code": r.code, "message": r.message} for r in result.rejected],
        })


def _events_from(body: object) -> list:
    if not isinstance(body, dict):
        raise ApiError(status_code=400, code="invalid_request", message="Send one event object or {\"events\": [...]}.")
    if "events" not in body:
        return [body]
    if set(body) != {"events"}:
        raise ApiError(status_code=400, code="invalid_request", message="A batch has only the key 'events'.",
                       details={"fields": {key: ["Unknown field."] for key in sorted(set(body) - {"events"})}})
    events = body["events"]
    if not isinstance(events, list) or not events:
        raise ApiError(status_code=400, code="invalid_request", message="events must be a non-empty list.")
    if len(events) > MAX_BATCH:
        raise ApiError(status_code=400, code="invalid_request",
                       message=f"A batch holds at most {MAX_BATCH} events; send {len(events)} in several batches.",
                       details={"limit": MAX_BATCH, "received": len(events)})
    return events


UsageSeriesQuery = inline_serializer("UsageSeriesQuery", fields={
    "meter": MeterCodeField(tenant_writable=False, help_text="Meter code."),
    "from": serializers.DateTimeField(required=False, help_text="ISO 8601 with a timezone; default 30 days before "
                                      "`to`. From 2000-01-01 to 2100-01-01 (UTC)."),
    "to": serializers.DateTimeField(required=False, help_text="ISO 8601 with a timezone; default now. From "
                                    "2000-01-01 to 2100-01-01 (UTC), after `from`."),
    "granularity": serializers.ChoiceField(choices=GRANULARITIES, default="day",
                                           help_text=f"At most {MAX_SERIES_POINTS} buckets in the range."),
})


class UsageSeriesApi(APIView):
    required_scopes = {"GET": "read"}
    required_actions = {"GET": Action.USE_PRODUCT}

    @extend_schema(
        operation_id="usage_series", summary="Usage over time for one meter",
        description=scopes_note("read") + " Buckets are UTC hours, days or months; buckets without usage are 0.",
        parameters=[UsageSeriesQuery],
        responses={200: inline_serializer("UsageSeries", fields={
            "meter": serializers.CharField(), "granularity": serializers.CharField(),
            "from": serializers.DateTimeField(), "to": serializers.DateTimeField(),
            "data": serializers.ListField(child=inline_serializer("UsagePoint", fields={
                "start": serializers.DateTimeField(), "value": serializers.CharField()})),
        }), **error_responses(400, 401, 403)},
    )
    def get(self, request):
        params = request.query_params
        meter = _meter_for(params.get("meter"))
        end = _moment(params, "to", default=timezone.now())
        start = _moment(params, "from", default=end - timedelta(days=30))
        granularity = params.get("granularity", "day")
        if granularity not in GRANULARITIES:
            raise _invalid("granularity", f"Use one of {', '.join(GRANULARITIES)}.")
        if start >= end:
            raise _invalid("from", "from must be before to.")
        points = (end - start) / {"hour": timedelta(hours=1), "day": timedelta(days=1),
                                  "month": timedelta(days=28)}[granularity]
        if points > MAX_SERIES_POINTS:
            raise _invalid("granularity", f"At most {MAX_SERIES_POINTS} buckets: use a shorter range or larger buckets.")
        series = usage_series(tenant=request.tenant, meter=meter, start=start, end=end, granularity=granularity)
        return Response({
            "meter": meter.code, "granularity": granularity, "from": start, "to": end,
            "data": [{"start": bucket, "value": decimal_text(value)} for bucket, value in series],
        })


class UsageSummaryApi(APIView):
    required_scopes = {"GET": "read"}
    required_actions = {"GET": Action.USE_PRODUCT}

    @extend_schema(
        operation_id="usage_summary", summary="This month's usage per meter against the plan",
        description=scopes_note("read"),
        responses={200: inline_serializer("UsageSummary", fields={
            "plan": serializers.CharField(),
            "period_start": serializers.DateTimeField(), "period_end": serializers.DateTimeField(),
            "meters": serializers.ListField(child=inline_serializer("UsageSummaryMeter", fields={
                "meter": serializers.CharField(), "name": serializers.CharField(), "unit": serializers.CharField(),
                "usage": serializers.CharField(), "limit": serializers.CharField(allow_null=True),
                "behaviour": serializers.CharField(allow_null=True),
                "percent_used": serializers.FloatField(allow_null=True),
            })),
        }), **error_responses(401, 403)},
    )
    def get(self, request):
        summary = usage_summary(tenant=request.tenant, now=timezone.now())
        return Response({
            "plan": summary.plan_code, "period_start": summary.period_start, "period_end": summary.period_end,
            "meters": [_meter_summary_data(item) for item in summary.meters],
        })


def _meter_summary_data(item: MeterSummary) -> dict:
    quota, percent = item.quota, item.percent_used
    return {
        "meter": item.meter.code, "name": item.meter.name, "unit": item.meter.unit, "usage": decimal_text(item.used),
        "limit": decimal_text(quota.monthly_limit) if quota else None,
        "behaviour": ("hard" if quota.hard else "soft") if quota else None,
        # One decimal, as the API has always answered (round half even).
        "percent_used": float(round(percent, 1)) if percent is not None else None,
    }


def _meter_for(code: str | None) -> Meter:
    if not code:
        raise _invalid("meter", "meter is required.")
    meter = active_meters().get(code)
    if meter is None:
        raise _invalid("meter", f"No active meter '{code}'.")
    return meter


def _moment(params, name: str, *, default: datetime) -> datetime:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise _invalid(name, "Use ISO 8601 with a timezone, e.g. 2026-11-01T00:00:00Z.") from None
    if moment.tzinfo is None:
        raise _invalid(name, "Add a timezone, e.g. Z.")
    out_of_range = _invalid(name, f"{name} must be between {EARLIEST_MOMENT:%Y-%m-%d} and "
                                  f"{LATEST_MOMENT:%Y-%m-%d} (UTC).")
    try:
        moment = moment.astimezone(dt_timezone.utc)
    except OverflowError:
        # 0001-01-01T00:00+01:00 and 9999-12-31T23:59-01:00 have no UTC date.
        raise out_of_range from None
    if not EARLIEST_MOMENT <= moment <= LATEST_MOMENT:
        raise out_of_range
    return moment


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(status_code=400, code="invalid_request", message=message, details={"fields": {field: [message]}})
