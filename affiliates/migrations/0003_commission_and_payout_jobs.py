"""Beat jobs of commissions and payouts: approve commissions whose holding period ended and catch up paid invoices
whose signal was lost (hourly), and batch payouts on the 1st of each month at 06:00 UTC (the previous month)."""

from django.db import migrations

HOURLY = [
    ("Approve commissions past their holding period", "affiliates.commissions_approve_due"),
    ("Earn commissions on paid invoices the signal missed", "affiliates.commissions_sweep"),
]
MONTHLY = ("Batch affiliate payouts (previous month)", "affiliates.payouts_monthly")


def jobs_create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    hourly, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    for name, task in HOURLY:
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": hourly})
    monthly, _ = CrontabSchedule.objects.get_or_create(minute="0", hour="6", day_of_month="1", month_of_year="*",
                                                       day_of_week="*", timezone="UTC")
    PeriodicTask.objects.get_or_create(name=MONTHLY[0], defaults={"task": MONTHLY[1], "crontab": monthly})


def jobs_delete(apps, schema_editor):
    names = [name for name, _ in HOURLY] + [MONTHLY[0]]
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("affiliates", "0002_default_program_and_click_flush"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(jobs_create, jobs_delete)]
