"""Beat jobs of metering's notifications: upgrade suggestions (daily, 09:00 UTC) and the ops AI cost alert
(hourly); and the index the alert reads a day's AI requests through."""

import django.contrib.postgres.indexes
from django.db import migrations

JOBS = [
    ("Suggest an upgrade to tenants past 80 % of a quota two months in a row", "metering.upgrade_suggestions_send",
     "0", "9"),
    ("Alert ops when a day's AI spend reaches the threshold", "metering.ai_cost_alert_send", "7", "*"),
]


def jobs_create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minute, hour in JOBS:
        crontab, _ = CrontabSchedule.objects.get_or_create(minute=minute, hour=hour, day_of_week="*",
                                                           day_of_month="*", month_of_year="*", timezone="UTC")
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab})


def jobs_delete(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[job[0] for job in JOBS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("metering", "0014_token_purchase_invoice"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="aireservationrecord",
            index=django.contrib.postgres.indexes.BrinIndex(fields=["created_at"], name="ai_reservation_created_brin"),
        ),
        migrations.RunPython(jobs_create, jobs_delete),
    ]
