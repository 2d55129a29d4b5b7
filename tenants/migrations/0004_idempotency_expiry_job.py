"""Schedule the hourly expiry of Idempotency-Key records (editable in admin under Periodic tasks)."""

from django.db import migrations

JOB_NAME = "Expire Idempotency-Key records older than 24 hours"


def job_create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute="5", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.get_or_create(
        name=JOB_NAME, defaults={"task": "tenants.idempotency_records_expire", "crontab": schedule}
    )


def job_delete(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=JOB_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("tenants", "0003_tenant_require_mfa_tenantauditlog_source_apikey_and_more")]

    operations = [migrations.RunPython(job_create, job_delete)]
