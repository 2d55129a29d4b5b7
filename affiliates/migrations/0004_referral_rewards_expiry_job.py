"""The beat job that takes back unused credit from expired tenant referral rewards: daily at 03:30 UTC."""

from django.db import migrations

JOB = ("Expire unused tenant referral rewards", "affiliates.referral_rewards_expire", "30", "3")


def job_create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    name, task, minute, hour = JOB
    crontab, _ = CrontabSchedule.objects.get_or_create(minute=minute, hour=hour, day_of_week="*",
                                                       day_of_month="*", month_of_year="*", timezone="UTC")
    PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab})


def job_delete(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=JOB[0]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("affiliates", "0003_commission_and_payout_jobs"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(job_create, job_delete),
    ]
