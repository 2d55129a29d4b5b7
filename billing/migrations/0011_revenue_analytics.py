"""Revenue analytics: the daily snapshot tables and the beat job that takes a snapshot at 02:00 UTC (the day
that just ended)."""

import django.db.models.deletion
from django.db import migrations, models

JOB = ("Snapshot revenue of the day that ended (analytics)", "billing.revenue_snapshot_daily", "0", "2")


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
        ('billing', '0010_payments'),
        ('tenants', '0007_api_key_billing_scope'),
        ('django_celery_beat', '0019_alter_periodictasks_options'),
    ]

    operations = [
        migrations.CreateModel(
            name='RevenueSnapshot',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(unique=True)),
                ('taken_at', models.DateTimeField()),
                ('subscriptions', models.PositiveIntegerField(default=0, help_text='Subscription rows written for the day.')),
                ('duration_ms', models.PositiveIntegerField(default=0)),
            ],
            options={
                'verbose_name': 'revenue dashboard',
                'verbose_name_plural': 'revenue dashboard',
                'ordering': ['-day'],
            },
        ),
        migrations.CreateModel(
            name='RevenueDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('currency', models.CharField(max_length=3)),
                ('mrr', models.DecimalField(decimal_places=6, default=0, max_digits=20)),
                ('customers', models.PositiveIntegerField(default=0, help_text='Tenants with MRR > 0 in this currency.')),
                ('subscriptions_paying', models.PositiveIntegerField(default=0)),
                ('subscriptions_trialing', models.PositiveIntegerField(default=0)),
                ('subscriptions_paused', models.PositiveIntegerField(default=0)),
                ('subscriptions_past_due', models.PositiveIntegerField(default=0)),
                ('new_mrr', models.DecimalField(decimal_places=6, default=0, max_digits=20)),
                ('expansion_mrr', models.DecimalField(decimal_places=6, default=0, max_digits=20)),
                ('contraction_mrr', models.DecimalField(decimal_places=6, default=0, max_digits=20)),
                ('churned_mrr', models.DecimalField(decimal_places=6, default=0, max_digits=20)),
                ('reactivation_mrr', models.DecimalField(decimal_places=6, default=0, max_digits=20)),
                ('new_customers', models.PositiveIntegerField(default=0)),
                ('churned_customers', models.PositiveIntegerField(default=0)),
                ('reactivated_customers', models.PositiveIntegerField(default=0)),
                ('trials_converted', models.PositiveIntegerField(default=0)),
                ('trials_lost', models.PositiveIntegerField(default=0)),
            ],
            options={
                'ordering': ['day', 'currency'],
                'constraints': [models.UniqueConstraint(fields=('day', 'currency'), name='revenue_day_unique')],
            },
        ),
        migrations.CreateModel(
            name='RevenueMoneyDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('currency', models.CharField(max_length=3)),
                ('invoiced', models.DecimalField(decimal_places=4, default=0, max_digits=20)),
                ('credited', models.DecimalField(decimal_places=4, default=0, max_digits=20)),
                ('cash_collected', models.DecimalField(decimal_places=4, default=0, max_digits=20)),
                ('usage_revenue', models.DecimalField(decimal_places=4, default=0, max_digits=20)),
                ('token_revenue', models.DecimalField(decimal_places=4, default=0, max_digits=20)),
                ('failed_count', models.PositiveIntegerField(default=0)),
                ('failed_amount', models.DecimalField(decimal_places=4, default=0, max_digits=20)),
                ('recovered_count', models.PositiveIntegerField(default=0)),
                ('recovered_amount', models.DecimalField(decimal_places=4, default=0, max_digits=20)),
            ],
            options={
                'ordering': ['day', 'currency'],
                'constraints': [models.UniqueConstraint(fields=('day', 'currency'), name='revenue_money_day_unique')],
            },
        ),
        migrations.CreateModel(
            name='RevenuePlanDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('currency', models.CharField(max_length=3)),
                ('active', models.PositiveIntegerField(default=0, help_text='Active or past due.')),
                ('trialing', models.PositiveIntegerField(default=0)),
                ('paused', models.PositiveIntegerField(default=0)),
                ('mrr', models.DecimalField(decimal_places=6, default=0, max_digits=20)),
                ('plan', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.plan')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('day', 'plan', 'currency'), name='revenue_plan_day_unique')],
            },
        ),
        migrations.CreateModel(
            name='SubscriptionRevenueDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('currency', models.CharField(max_length=3)),
                ('status', models.CharField(max_length=20)),
                ('quantity', models.PositiveIntegerField()),
                ('mrr', models.DecimalField(decimal_places=6, default=0, max_digits=20)),
                ('plan', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.plan')),
                ('price', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.price')),
                ('subscription', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='billing.subscription')),
                ('tenant', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenants.tenant')),
            ],
            options={
                'indexes': [models.Index(condition=models.Q(('mrr__gt', 0)), fields=['tenant', 'currency', 'day'], name='revenue_sub_day_paid_idx')],
                'constraints': [models.UniqueConstraint(fields=('day', 'subscription'), name='revenue_subscription_day_unique'), models.CheckConstraint(condition=models.Q(('mrr__gte', 0)), name='revenue_subscription_day_mrr_not_negative')],
            },
        ),
        migrations.CreateModel(
            name='TenantChurnRisk',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('score', models.DecimalField(decimal_places=1, max_digits=5)),
                ('level', models.CharField(choices=[('low', 'Low'), ('medium', 'Medium'), ('high', 'High'), ('critical', 'Critical')], max_length=10)),
                ('low_usage', models.DecimalField(decimal_places=3, max_digits=4)),
                ('failed_payments', models.DecimalField(decimal_places=3, max_digits=4)),
                ('no_team', models.DecimalField(decimal_places=3, max_digits=4)),
                ('oldest_features_only', models.DecimalField(decimal_places=3, max_digits=4)),
                ('active_days', models.PositiveSmallIntegerField(help_text='Days with usage in the 30 days before the snapshot.')),
                ('failed_payment_count', models.PositiveIntegerField(help_text='In the 90 days before the snapshot.')),
                ('past_due', models.BooleanField()),
                ('members', models.PositiveIntegerField(help_text='Active team members; empty when unknown.', null=True)),
                ('meters_used', models.JSONField(default=list)),
                ('mrr', models.DecimalField(decimal_places=6, default=0, max_digits=20)),
                ('currency', models.CharField(max_length=3)),
                ('tenant', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenants.tenant')),
            ],
            options={
                'ordering': ['-score', 'tenant_id'],
                'indexes': [models.Index(fields=['-score'], name='tenant_churn_risk_score_idx')],
            },
        ),
        migrations.RunPython(job_create, job_delete),
    ]
