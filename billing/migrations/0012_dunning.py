"""Dunning (billing.payments.dunning): DunningCase, one per invoice whose card payment failed, and its beat job,
every 15 minutes (a due retry waits at most that long past its day)."""

import django.db.models.deletion
from django.db import migrations, models

JOB = ("Retry failed card payments (dunning)", "billing.dunning_retries", 15)


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
        ('billing', '0011_revenue_analytics'),
        ('tenants', '0007_api_key_billing_scope'),
        ('django_celery_beat', '0019_alter_periodictasks_options'),
    ]

    operations = [
        migrations.CreateModel(
            name='DunningCase',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[('active', 'Retrying'), ('recovered', 'Recovered (paid)'), ('exhausted', 'Exhausted (uncollectible)'), ('closed', 'Closed (voided or written off by hand)')], default='active', max_length=20)),
                ('started_at', models.DateTimeField(help_text='The first failure: the retry schedule counts from here.')),
                ('retries_made', models.PositiveSmallIntegerField(default=0, help_text='Slots of the retry schedule used (BILLING_DUNNING_RETRY_DAYS).')),
                ('last_attempt', models.PositiveSmallIntegerField(default=0, help_text='The highest attempt (Payment.attempt) dunning asked for or saw fail.')),
                ('next_attempt_at', models.DateTimeField(blank=True, help_text='When the beat job acts next: a retry, or the end while waiting for the customer. Empty once the case has ended.', null=True)),
                ('action_required_since', models.DateTimeField(blank=True, help_text='The bank wants the cardholder (SCA): no retries until they act or the card changes.', null=True)),
                ('card_retried', models.CharField(blank=True, help_text='The last new default card retried at once (pm_...).', max_length=255)),
                ('ended_at', models.DateTimeField(blank=True, null=True)),
                ('invoice', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='dunning_case', to='billing.invoice')),
                ('subscription', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.subscription')),
                ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenants.tenant')),
            ],
            options={
                'ordering': ['-started_at', '-id'],
                'indexes': [models.Index(condition=models.Q(('status', 'active')), fields=['next_attempt_at'], name='dunning_due_idx'), models.Index(fields=['tenant', 'started_at'], name='dunning_tenant_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('status', 'active'), ('ended_at__isnull', False), _connector='OR'), name='dunning_ended_has_end')],
            },
        ),
        migrations.RunPython(job_create, job_delete),
    ]
