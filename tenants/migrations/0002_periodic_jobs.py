"""Schedule the platform's periodic jobs in django-celery-beat (public schema); ops can edit them in admin."""

from django.db import migrations

JOBS = [
    {
        "name": "Clear expired sessions in every schema",
        "task": "tenants.expired_sessions_clear_all",
        "crontab": {"minute": "17", "hour": "3"},
    },
]


def jobs_create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for job in JOBS:
        schedule, _ = CrontabSchedule.objects.get_or_create(
            minute=job["crontab"]["minute"], hour=job["crontab"]["hour"], day_of_week="*", day_of_month="*",
            month_of_year="*", timezone="UTC",
        )
        PeriodicTask.objects.get_or_create(name=job["name"], defaults={"task": job["task"], "crontab": schedule})


def jobs_delete(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[job["name"] for job in JOBS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(jobs_create, jobs_delete)]
