"""The lost-charge safety net (billing.payments.lost_charges): when dunning last asked for a retry
(DunningCase.last_attempt_asked_at), and the beat job that asks again for charges lost on their way, every
10 minutes."""

from django.db import migrations, models

JOB = ("Charge again invoices whose charge was lost", "billing.invoice_charges_lost_requeue", 10)


def job_create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    name, task, minutes = JOB
    interval, _ = IntervalSchedule.objects.get_or_create(every=minutes, period="minutes")
    PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": interval})


def job_delete(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=JOB[0]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0017_plan_coach_messages_per_day'),
        ('django_celery_beat', '0019_alter_periodictasks_options'),
    ]

    operations = [
        migrations.AddField(
            model_name='dunningcase',
            name='last_attempt_asked_at',
            field=models.DateTimeField(blank=True, help_text='When dunning last asked for a retry (enqueued its charge): a retry with no payment recorded well after this was lost on its way.', null=True),
        ),
        migrations.RunPython(job_create, job_delete),
    ]
