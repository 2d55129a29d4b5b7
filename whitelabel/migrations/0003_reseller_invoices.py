"""Reseller billing: agencies' invoicing details, their invoices to their clients (with lines) and their gapless
numbering; and the daily beat job that issues what a lost invoice_consolidated left out
(whitelabel.reseller_invoices_catch_up)."""

import django.db.models.deletion
from django.db import migrations, models

JOB = ("Issue lost reseller invoices", "whitelabel.reseller_invoices_catch_up")


def job_create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    daily, _ = IntervalSchedule.objects.get_or_create(every=1, period="days")
    PeriodicTask.objects.get_or_create(name=JOB[0], defaults={"task": JOB[1], "interval": daily})


def job_delete(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=JOB[0]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0020_consolidated_billing'),
        ('tenants', '0009_api_key_agency_scope'),
        ('whitelabel', '0002_recheck_jobs'),
        ('django_celery_beat', '0019_alter_periodictasks_options'),
    ]

    operations = [
        migrations.CreateModel(
            name='ResellerInvoice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.CharField(max_length=30)),
                ('status', models.CharField(choices=[('open', 'Open'), ('paid', 'Paid'), ('void', 'Void')], db_index=True, default='open', max_length=10)),
                ('currency', models.CharField(max_length=3)),
                ('subtotal', models.DecimalField(decimal_places=4, max_digits=16)),
                ('tax_name', models.CharField(blank=True, max_length=60)),
                ('tax_percentage', models.DecimalField(blank=True, decimal_places=4, max_digits=7, null=True)),
                ('tax_total', models.DecimalField(decimal_places=4, default=0, max_digits=16)),
                ('total', models.DecimalField(decimal_places=4, max_digits=16)),
                ('wholesale_amount', models.DecimalField(decimal_places=4, max_digits=16)),
                ('list_price_used', models.BooleanField(default=False, help_text="The agency had no price for the plan: its subscription line is at Tollgate's list price.")),
                ('period_start', models.DateTimeField(blank=True, null=True)),
                ('period_end', models.DateTimeField(blank=True, null=True)),
                ('issuer', models.JSONField(default=dict, help_text="The agency's details as they were when issued.")),
                ('customer', models.JSONField(default=dict, help_text="The client's billing details as they were when issued.")),
                ('issued_at', models.DateTimeField()),
                ('due_at', models.DateTimeField(blank=True, null=True)),
                ('paid_at', models.DateTimeField(blank=True, null=True)),
                ('voided_at', models.DateTimeField(blank=True, null=True)),
                ('status_changed_by', models.CharField(blank=True, max_length=254)),
                ('agency', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenants.tenant')),
                ('client', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenants.tenant')),
                ('source_invoice', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.invoice')),
            ],
            options={
                'ordering': ['-issued_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='ResellerInvoiceLine',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=20)),
                ('description', models.CharField(max_length=300)),
                ('period_start', models.DateTimeField(blank=True, null=True)),
                ('period_end', models.DateTimeField(blank=True, null=True)),
                ('quantity', models.DecimalField(decimal_places=6, default=1, max_digits=24)),
                ('unit_amount', models.DecimalField(blank=True, decimal_places=10, max_digits=24, null=True)),
                ('amount', models.DecimalField(decimal_places=4, max_digits=16)),
                ('list_amount', models.DecimalField(decimal_places=4, max_digits=16)),
                ('pricing', models.CharField(choices=[('reseller_price', "The agency's price"), ('list_price', "Tollgate's list price (the agency has no price for the plan)"), ('passed_through', "As on Tollgate's invoice")], max_length=20)),
                ('plan_code', models.CharField(blank=True, max_length=40)),
                ('interval', models.CharField(blank=True, max_length=10)),
                ('taxable', models.BooleanField(default=True)),
                ('sort_order', models.PositiveSmallIntegerField(default=0)),
                ('invoice', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='whitelabel.resellerinvoice')),
            ],
            options={
                'ordering': ['invoice', 'sort_order', 'id'],
            },
        ),
        migrations.CreateModel(
            name='ResellerSettings',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('legal_name', models.CharField(blank=True, help_text="Blank: the agency's workspace name.", max_length=200)),
                ('address', models.TextField(blank=True)),
                ('email', models.EmailField(blank=True, max_length=254)),
                ('tax_id', models.CharField(blank=True, max_length=50)),
                ('tax_name', models.CharField(blank=True, default='Tax', max_length=60)),
                ('tax_percentage', models.DecimalField(blank=True, decimal_places=4, help_text="Added to the invoice's taxable lines; blank: no tax line.", max_digits=7, null=True)),
                ('number_prefix', models.CharField(help_text='Invoice numbers read PREFIX-2026-0001.', max_length=10)),
                ('payment_instructions', models.TextField(blank=True, help_text='How clients pay you (bank details, a link).')),
                ('payment_terms_days', models.PositiveSmallIntegerField(default=14)),
                ('updated_at', models.DateTimeField()),
                ('agency', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='reseller_settings', to='tenants.tenant')),
            ],
            options={
                'verbose_name_plural': 'reseller settings',
            },
        ),
        migrations.CreateModel(
            name='ResellerDocumentSequence',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('year', models.PositiveSmallIntegerField()),
                ('last_number', models.PositiveIntegerField(default=0)),
                ('agency', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenants.tenant')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('agency', 'year'), name='reseller_sequence_unique')],
            },
        ),
        migrations.AddIndex(
            model_name='resellerinvoice',
            index=models.Index(fields=['client', 'issued_at'], name='reseller_invoice_client_idx'),
        ),
        migrations.AddIndex(
            model_name='resellerinvoice',
            index=models.Index(fields=['agency', 'issued_at'], name='reseller_invoice_agency_idx'),
        ),
        migrations.AddConstraint(
            model_name='resellerinvoice',
            constraint=models.UniqueConstraint(fields=('agency', 'number'), name='reseller_invoice_number_once'),
        ),
        migrations.AddConstraint(
            model_name='resellerinvoice',
            constraint=models.CheckConstraint(condition=models.Q(('agency', models.F('client')), _negated=True), name='reseller_invoice_not_to_itself'),
        ),
        migrations.AddConstraint(
            model_name='resellersettings',
            constraint=models.CheckConstraint(condition=models.Q(('number_prefix__regex', '^[A-Z0-9]{1,10}$')), name='reseller_settings_prefix_plain'),
        ),
        migrations.AddConstraint(
            model_name='resellersettings',
            constraint=models.CheckConstraint(condition=models.Q(('tax_percentage__isnull', True), models.Q(('tax_percentage__gte', 0), ('tax_percentage__lte', 100)), _connector='OR'), name='reseller_settings_tax_percentage_range'),
        ),
        migrations.RunPython(job_create, job_delete),
    ]
