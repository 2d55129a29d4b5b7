"""The program's one row (code "default", the products' defaults: 10 % recurring, 60-day cookie, first touch,
30 days' holding, $50 threshold, monthly payouts) and the beat job that flushes buffered referral clicks."""

from django.db import migrations

FLUSH_JOB = ("Flush buffered referral clicks", "affiliates.clicks_flush", 10)


def program_create(apps, schema_editor):
    apps.get_model("affiliates", "AffiliateProgram").objects.get_or_create(code="default")


def program_delete(apps, schema_editor):
    apps.get_model("affiliates", "AffiliateProgram").objects.filter(code="default").delete()


def job_create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    name, task, seconds = FLUSH_JOB
    interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
    PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": interval})


def job_delete(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=FLUSH_JOB[0]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("affiliates", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(program_create, program_delete),
        migrations.RunPython(job_create, job_delete),
    ]
