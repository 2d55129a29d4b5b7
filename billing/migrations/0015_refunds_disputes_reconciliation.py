"""Card refunds of credit notes and disputes (billing.models.refunds), the daily reconciliation with Stripe
(billing.models.reconciliation), and their beat jobs: reconciliation at 03:00 UTC, after the night's billing run
and snapshot; the card-expiry check at 09:00 UTC, when an email is read."""


import django.db.models.deletion
from django.db import migrations, models

JOBS = [
    ("Reconcile open invoices with Stripe", "billing.stripe_reconcile", "0", "3"),
    ("Tell owners about cards that expire this month", "billing.card_expiry_scan", "0", "9"),
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

    dependencies = [
        ('billing', '0014_auto_recharge'),
        ('django_celery_beat', '0019_alter_periodictasks_options'),
        ('tenants', '0007_api_key_billing_scope'),
    ]

    operations = [
        migrations.CreateModel(
            name='ReconciliationRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('started_at', models.DateTimeField()),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('invoices_checked', models.PositiveIntegerField(default=0)),
                ('payments_settled', models.PositiveIntegerField(default=0, help_text='Payments a missed webhook had left unsettled.')),
                ('disagreements', models.PositiveIntegerField(default=0, help_text='Left for ops.')),
            ],
            options={
                'ordering': ['-started_at', '-id'],
            },
        ),
        migrations.AlterField(
            model_name='stripesettlement',
            name='kind',
            field=models.CharField(choices=[('invoice_paid', 'Invoice paid'), ('payment_failed', 'Payment failed'), ('payment_unmatched', 'Payment received, invoice not settled'), ('refund_recorded', 'Refund recorded'), ('refund_failed', 'Refund failed'), ('dispute_opened', 'Dispute opened'), ('dispute_closed', 'Dispute closed'), ('card_saved', 'Card saved as the default'), ('default_set', 'Attached card made the default')], max_length=20),
        ),
        migrations.CreateModel(
            name='CardRefund',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('refund_id', models.CharField(blank=True, help_text="Stripe's Refund (re_...), once Stripe answered.", max_length=255, null=True, unique=True)),
                ('amount', models.DecimalField(decimal_places=4, max_digits=16)),
                ('currency', models.CharField(max_length=3)),
                ('status', models.CharField(choices=[('pending', 'Asked of Stripe, not settled yet'), ('succeeded', 'Refunded'), ('failed', 'Failed'), ('canceled', 'Canceled')], db_index=True, default='pending', max_length=20)),
                ('failure_reason', models.CharField(blank=True, max_length=255)),
                ('created_at', models.DateTimeField()),
                ('settled_at', models.DateTimeField(blank=True, null=True)),
                ('credit_note', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='card_refund', to='billing.creditnote')),
                ('invoice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='card_refunds', to='billing.invoice')),
                ('payment', models.ForeignKey(help_text='The card payment the money goes back to.', on_delete=django.db.models.deletion.PROTECT, related_name='card_refunds', to='billing.payment')),
                ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenants.tenant')),
            ],
            options={
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(fields=['tenant', 'created_at'], name='card_refund_tenant_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='card_refund_amount_positive')],
            },
        ),
        migrations.CreateModel(
            name='Dispute',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('dispute_id', models.CharField(help_text="Stripe's Dispute (dp_...).", max_length=255, unique=True)),
                ('charge_id', models.CharField(max_length=255)),
                ('payment_intent_id', models.CharField(blank=True, max_length=255)),
                ('amount', models.DecimalField(decimal_places=4, max_digits=16)),
                ('currency', models.CharField(max_length=3)),
                ('reason', models.CharField(blank=True, max_length=50)),
                ('status', models.CharField(choices=[('warning_needs_response', 'Inquiry: needs a response'), ('warning_under_review', 'Inquiry: under review'), ('warning_closed', 'Inquiry closed'), ('needs_response', 'Needs a response'), ('under_review', 'Under review'), ('won', 'Won'), ('lost', 'Lost')], db_index=True, max_length=30)),
                ('evidence_due_by', models.DateTimeField(blank=True, null=True)),
                ('opened_at', models.DateTimeField()),
                ('closed_at', models.DateTimeField(blank=True, null=True)),
                ('updated_at', models.DateTimeField()),
                ('invoice', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='disputes', to='billing.invoice')),
                ('payment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='disputes', to='billing.payment')),
                ('tenant', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenants.tenant')),
            ],
            options={
                'ordering': ['-opened_at', '-id'],
                'indexes': [models.Index(fields=['tenant', 'opened_at'], name='dispute_tenant_idx')],
            },
        ),
        migrations.CreateModel(
            name='ReconciliationDisagreement',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('amount_mismatch', 'Stripe received a different amount'), ('currency_mismatch', 'Stripe received another currency'), ('paid_elsewhere', 'Stripe has the money, the invoice is settled another way'), ('intent_missing', 'Stripe does not know the payment intent'), ('state_mismatch', "Our payment and Stripe's disagree")], max_length=30)),
                ('stripe_id', models.CharField(help_text='The Stripe object it is about (pi_...).', max_length=255)),
                ('message', models.CharField(max_length=500)),
                ('detail', models.JSONField(blank=True, default=dict, help_text="Both sides' figures, as the last run saw them.")),
                ('status', models.CharField(choices=[('open', 'Open'), ('resolved', 'Resolved')], db_index=True, default='open', max_length=20)),
                ('first_seen_at', models.DateTimeField()),
                ('last_seen_at', models.DateTimeField()),
                ('resolved_at', models.DateTimeField(blank=True, null=True)),
                ('resolved_by', models.CharField(blank=True, max_length=254)),
                ('resolution_note', models.TextField(blank=True)),
                ('invoice', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.invoice')),
                ('payment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.payment')),
                ('tenant', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenants.tenant')),
                ('first_run', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='disagreements_found', to='billing.reconciliationrun')),
            ],
            options={
                'ordering': ['-last_seen_at', '-id'],
                'constraints': [models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('kind', 'stripe_id'), name='reconciliation_disagreement_open_once'), models.CheckConstraint(condition=models.Q(('status', 'open'), ('resolved_at__isnull', False), _connector='OR'), name='reconciliation_resolved_has_time')],
            },
        ),
        migrations.RunPython(jobs_create, jobs_delete),
    ]
