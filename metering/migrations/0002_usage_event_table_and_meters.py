"""The partitioned usage-event table (Django cannot declare partitioning) and the seeded meters."""

from django.db import migrations

from metering.usage import sql

METERS = [
    {"code": "api_calls", "name": "API calls", "unit": "calls", "aggregation": "count",
     "filters": {"billable": True}},
    {"code": "ai_input_tokens", "name": "AI input tokens", "unit": "tokens", "aggregation": "sum",
     "event_property": "tokens"},
    {"code": "ai_output_tokens", "name": "AI output tokens", "unit": "tokens", "aggregation": "sum",
     "event_property": "tokens"},
    {"code": "coach_messages", "name": "Coach messages", "unit": "messages", "aggregation": "count"},
    {"code": "compute_seconds", "name": "Compute seconds", "unit": "seconds", "aggregation": "sum",
     "event_property": "seconds"},
    {"code": "storage_gb", "name": "Storage", "unit": "GB", "aggregation": "latest", "event_property": "gb"},
]


def meters_seed(apps, schema_editor):
    Meter = apps.get_model("metering", "Meter")
    for spec in METERS:
        Meter.objects.get_or_create(code=spec["code"], defaults=spec)


def meters_unseed(apps, schema_editor):
    apps.get_model("metering", "Meter").objects.filter(code__in=[spec["code"] for spec in METERS]).delete()


class Migration(migrations.Migration):
    dependencies = [("metering", "0001_initial")]

    operations = [
        migrations.RunSQL(sql.CREATE_EVENT_TABLE, sql.DROP_EVENT_TABLE),
        migrations.RunPython(meters_seed, meters_unseed),
    ]
