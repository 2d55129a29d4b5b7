"""Beat jobs of the wallets: the plan's monthly token grant (daily, idempotent per month) and grant expiry
(hourly)."""

from django.db import migrations

JOBS = [
    ("Grant each tenant its plan's monthly AI tokens", "metering.wallet_monthly_grants", "10", "0"),
    ("Expire unused AI-token grants", "metering.wallet_grants_expire", "5", "*"),
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
    dependencies = [("metering", "0006_token_packs_seed"), ("metering", "0003_periodic_jobs")]

    operations = [migrations.RunPython(jobs_create, jobs_delete)]
