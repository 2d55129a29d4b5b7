"""The AI gateway's durable record of open reservations, and the beat job that settles the ones whose process
died (every 5 minutes)."""

import django.db.models.deletion
from django.db import migrations, models

JOB = ("Settle AI reservations of requests that died", "metering.ai_reservations_sweep", "*/5", "*")


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
        ("metering", "0011_meter_write_policy"),
        ("metering", "0007_wallet_jobs"),
        ("tenants", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="AiReservationRecord",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("request_id", models.UUIDField(unique=True)),
                ("model", models.CharField(max_length=100)),
                ("tokens", models.BigIntegerField(help_text="Reserved: max_tokens plus the input estimate.")),
                ("created_by", models.CharField(blank=True, max_length=255)),
                ("created_at", models.DateTimeField()),
                ("deadline", models.DateTimeField(help_text="The request cannot still be running after this.")),
                ("usage", models.JSONField(blank=True, null=True, help_text="The usage charged (at settlement), "
                                           "or recorded so far by a running stream.")),
                ("usage_recorded", models.BooleanField(default=False, help_text="Its usage events are stored.")),
                ("settled_at", models.DateTimeField(blank=True, null=True)),
                ("outcome", models.CharField(blank=True, max_length=20, choices=[
                    ("settled", "Settled on the request's usage"), ("released", "Released (the call failed)"),
                    ("swept", "Swept after its deadline")])),
                ("tenant", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                             related_name="+", to="tenants.tenant")),
            ],
            options={
                "verbose_name": "AI reservation",
                "ordering": ["-created_at"],
                "indexes": [
                    models.Index(condition=models.Q(("settled_at__isnull", True)), fields=["deadline"],
                                 name="ai_reservation_open_idx"),
                    models.Index(fields=["tenant", "created_at"], name="ai_reservation_tenant_idx"),
                    models.Index(condition=models.Q(("settled_at__isnull", False), ("usage_recorded", False)),
                                 fields=["settled_at"], name="ai_reservation_unrecorded_idx"),
                ],
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("tokens__gt", 0)),
                                           name="ai_reservation_tokens_positive"),
                    models.CheckConstraint(
                        condition=models.Q(models.Q(("outcome", ""), ("settled_at__isnull", True)),
                                           models.Q(("settled_at__isnull", False),
                                                    models.Q(("outcome", ""), _negated=True)), _connector="OR"),
                        name="ai_reservation_outcome_iff_settled"),
                ],
            },
        ),
        migrations.RunPython(job_create, job_delete),
    ]
