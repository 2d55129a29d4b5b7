"""The daily beat jobs that re-check every custom domain (whitelabel.custom_domains_recheck: active ones may go
failing, failing ones released after 7 days) and every brand's sender domain (whitelabel.sender_domains_recheck)."""

from django.db import migrations

JOBS = (
    ("Re-check custom domains", "whitelabel.custom_domains_recheck"),
    ("Re-check sender domains", "whitelabel.sender_domains_recheck"),
)


def jobs_create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    daily, _ = IntervalSchedule.objects.get_or_create(every=1, period="days")
    for name, task in JOBS:
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": daily})


def jobs_delete(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[name for name, _ in JOBS]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('whitelabel', '0001_initial'),
        ('django_celery_beat', '0019_alter_periodictasks_options'),
    ]

    operations = [
        migrations.RunPython(jobs_create, jobs_delete),
    ]
