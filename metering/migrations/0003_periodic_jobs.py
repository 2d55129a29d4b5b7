"""Beat jobs: flush tracked API calls every 10 seconds; create partitions and prune old dedupe keys daily."""

from django.db import migrations

INTERVAL_JOBS = [("Flush tracked API calls into usage events", "metering.api_calls_flush", 10)]
DAILY_JOBS = [
    ("Create usage-event partitions ahead", "metering.usage_partitions_ensure", "40"),
    ("Prune usage dedupe keys older than 36 days", "metering.event_keys_prune", "50"),
]


def jobs_create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, seconds in INTERVAL_JOBS:
        interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": interval})
    for name, task, minute in DAILY_JOBS:
        crontab, _ = CrontabSchedule.objects.get_or_create(minute=minute, hour="2", day_of_week="*",
                                                           day_of_month="*", month_of_year="*", timezone="UTC")
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab})


def jobs_delete(apps, schema_editor):
    names = [job[0] for job in INTERVAL_JOBS + DAILY_JOBS]
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("metering", "0002_usage_event_table_and_meters"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(jobs_create, jobs_delete)]
