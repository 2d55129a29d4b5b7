"""Reseller mode (billing.consolidation): ConsolidatedBilling (a client billed through a payer at wholesale), the
invoice's consolidated collection (the arrangement it was finalised under, immutable like its collection once
finalised; the payer's invoice carrying it, which a void clears), the payer invoice's lines naming the client
invoice they carry, and the beat job that issues the payers' consolidated invoices every hour (it picks up the
calendar months that have closed)."""

import django.db.models.deletion
from django.db import migrations, models

# Migration 0009's guard, with the arrangement a finalised invoice was consolidated under among what never changes.
GUARD_SQL = r"""
CREATE OR REPLACE FUNCTION billing_invoice_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('tollgate.ledger_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'invoice % is finalised and cannot be deleted', OLD.number USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' THEN
        IF NEW.status = 'draft'
           OR (OLD.status IN ('paid', 'void') AND NEW.status <> OLD.status)
           OR (NEW.number, NEW.tenant_id, NEW.subscription_id, NEW.billing_reason, NEW.currency, NEW.period_start,
               NEW.period_end, NEW.subtotal, NEW.discount_total, NEW.tax_total, NEW.total, NEW.credit_applied,
               NEW.amount_due, NEW.tax_name, NEW.tax_percentage, NEW.tax_inclusive, NEW.tax_legend, NEW.customer,
               NEW.issuer, NEW.issued_at, NEW.due_at, NEW.memo, NEW.collection_method,
               NEW.consolidated_billing_id)
              IS DISTINCT FROM
              (OLD.number, OLD.tenant_id, OLD.subscription_id, OLD.billing_reason, OLD.currency, OLD.period_start,
               OLD.period_end, OLD.subtotal, OLD.discount_total, OLD.tax_total, OLD.total, OLD.credit_applied,
               OLD.amount_due, OLD.tax_name, OLD.tax_percentage, OLD.tax_inclusive, OLD.tax_legend, OLD.customer,
               OLD.issuer, OLD.issued_at, OLD.due_at, OLD.memo, OLD.collection_method,
               OLD.consolidated_billing_id)
        THEN
            RAISE EXCEPTION 'invoice % is finalised: only its settlement may change', OLD.number USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    RETURN NEW;
END $$;
"""

GUARD_REVERSE_SQL = r"""
CREATE OR REPLACE FUNCTION billing_invoice_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('tollgate.ledger_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'invoice % is finalised and cannot be deleted', OLD.number USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' THEN
        IF NEW.status = 'draft'
           OR (OLD.status IN ('paid', 'void') AND NEW.status <> OLD.status)
           OR (NEW.number, NEW.tenant_id, NEW.subscription_id, NEW.billing_reason, NEW.currency, NEW.period_start,
               NEW.period_end, NEW.subtotal, NEW.discount_total, NEW.tax_total, NEW.total, NEW.credit_applied,
               NEW.amount_due, NEW.tax_name, NEW.tax_percentage, NEW.tax_inclusive, NEW.tax_legend, NEW.customer,
               NEW.issuer, NEW.issued_at, NEW.due_at, NEW.memo, NEW.collection_method)
              IS DISTINCT FROM
              (OLD.number, OLD.tenant_id, OLD.subscription_id, OLD.billing_reason, OLD.currency, OLD.period_start,
               OLD.period_end, OLD.subtotal, OLD.discount_total, OLD.tax_total, OLD.total, OLD.credit_applied,
               OLD.amount_due, OLD.tax_name, OLD.tax_percentage, OLD.tax_inclusive, OLD.tax_legend, OLD.customer,
               OLD.issuer, OLD.issued_at, OLD.due_at, OLD.memo, OLD.collection_method)
        THEN
            RAISE EXCEPTION 'invoice % is finalised: only its settlement may change', OLD.number USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    RETURN NEW;
END $$;
"""

JOB = ("Issue the payers' consolidated invoices", "billing.consolidated_invoices_issue", 1)


def job_create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    name, task, hours = JOB
    interval, _ = IntervalSchedule.objects.get_or_create(every=hours, period="hours")
    PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": interval})


def job_delete(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=JOB[0]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0019_plan_remove_powered_by'),
        ('tenants', '0009_api_key_agency_scope'),
        ('django_celery_beat', '0019_alter_periodictasks_options'),
    ]

    operations = [
        migrations.CreateModel(
            name='ConsolidatedBilling',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('wholesale_discount_percent', models.DecimalField(decimal_places=4, max_digits=7)),
                ('started_at', models.DateTimeField()),
                ('ended_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'ordering': ['-started_at', '-id'],
            },
        ),
        migrations.AddField(
            model_name='invoice',
            name='consolidated_into',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='carried_invoices', to='billing.invoice'),
        ),
        migrations.AddField(
            model_name='invoiceline',
            name='source_invoice',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.invoice'),
        ),
        migrations.AlterField(
            model_name='invoice',
            name='billing_reason',
            field=models.CharField(choices=[('subscription_create', 'Subscription started'), ('subscription_cycle', 'Billing period'), ('subscription_update', 'Subscription changed'), ('one_time', 'One-time purchase'), ('manual', 'Manual'), ('consolidated', 'Consolidated (clients at wholesale)')], max_length=30),
        ),
        migrations.AlterField(
            model_name='invoice',
            name='collection_method',
            field=models.CharField(default='manual', max_length=20),
        ),
        migrations.AlterField(
            model_name='invoiceline',
            name='kind',
            field=models.CharField(choices=[('fixed', 'Fixed fee'), ('seats', 'Seats'), ('usage', 'Usage'), ('minimum', 'Minimum'), ('proration', 'Proration'), ('discount', 'Discount'), ('one_time', 'One-time'), ('wallet_shortfall', 'AI tokens owed'), ('late_usage', 'Late usage'), ('token_pack', 'AI-token pack'), ('consolidated', 'Client invoice at wholesale')], max_length=20),
        ),
        migrations.AlterField(
            model_name='pendinginvoiceitem',
            name='kind',
            field=models.CharField(choices=[('fixed', 'Fixed fee'), ('seats', 'Seats'), ('usage', 'Usage'), ('minimum', 'Minimum'), ('proration', 'Proration'), ('discount', 'Discount'), ('one_time', 'One-time'), ('wallet_shortfall', 'AI tokens owed'), ('late_usage', 'Late usage'), ('token_pack', 'AI-token pack'), ('consolidated', 'Client invoice at wholesale')], max_length=20),
        ),
        migrations.AddConstraint(
            model_name='invoiceline',
            constraint=models.UniqueConstraint(fields=('invoice', 'source_invoice'), name='invoice_line_source_once_per_invoice'),
        ),
        migrations.AddField(
            model_name='consolidatedbilling',
            name='client',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='consolidated_billings', to='tenants.tenant'),
        ),
        migrations.AddField(
            model_name='consolidatedbilling',
            name='payer',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='consolidated_clients', to='tenants.tenant'),
        ),
        migrations.AddField(
            model_name='invoice',
            name='consolidated_billing',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='invoices', to='billing.consolidatedbilling'),
        ),
        migrations.AddConstraint(
            model_name='invoice',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('collection_method', 'consolidated'), ('consolidated_billing__isnull', False)), models.Q(models.Q(('collection_method', 'consolidated'), _negated=True), ('consolidated_billing__isnull', True)), _connector='OR'), name='invoice_consolidated_has_arrangement'),
        ),
        migrations.AddConstraint(
            model_name='invoice',
            constraint=models.CheckConstraint(condition=models.Q(('consolidated_into__isnull', True), ('collection_method', 'consolidated'), _connector='OR'), name='invoice_carried_if_consolidated'),
        ),
        migrations.AddIndex(
            model_name='consolidatedbilling',
            index=models.Index(condition=models.Q(('ended_at__isnull', True)), fields=['payer'], name='consolidated_billing_payer_idx'),
        ),
        migrations.AddConstraint(
            model_name='consolidatedbilling',
            constraint=models.UniqueConstraint(condition=models.Q(('ended_at__isnull', True)), fields=('client',), name='consolidated_billing_one_current'),
        ),
        migrations.AddConstraint(
            model_name='consolidatedbilling',
            constraint=models.CheckConstraint(condition=models.Q(('client', models.F('payer')), _negated=True), name='consolidated_billing_not_own_payer'),
        ),
        migrations.AddConstraint(
            model_name='consolidatedbilling',
            constraint=models.CheckConstraint(condition=models.Q(('wholesale_discount_percent__gte', 0), ('wholesale_discount_percent__lte', 100)), name='consolidated_billing_discount_percent'),
        ),
        migrations.RunSQL(GUARD_SQL, GUARD_REVERSE_SQL),
        migrations.RunPython(job_create, job_delete),
    ]
