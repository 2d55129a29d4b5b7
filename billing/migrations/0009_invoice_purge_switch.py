"""Tests purge what a committed test wrote (tests/support/tenants.py tenant_purge), finalised invoices included:
the immutability triggers let a DELETE through when the session says it is purging on purpose
(`SET LOCAL tollgate.ledger_purge = 'on'`, as metering's ledger does). Nothing in the platform sets it."""

from django.db import migrations

SQL = r"""
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

CREATE OR REPLACE FUNCTION billing_invoice_line_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    invoice_status text;
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('tollgate.ledger_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    SELECT status INTO invoice_status FROM billing_invoice
     WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.invoice_id ELSE NEW.invoice_id END;
    IF invoice_status IS NOT NULL AND invoice_status <> 'draft' THEN
        RAISE EXCEPTION 'the lines of a finalised invoice cannot change' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.invoice_id <> OLD.invoice_id THEN
        SELECT status INTO invoice_status FROM billing_invoice WHERE id = OLD.invoice_id;
        IF invoice_status <> 'draft' THEN
            RAISE EXCEPTION 'the lines of a finalised invoice cannot change' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE OR REPLACE FUNCTION billing_credit_note_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('tollgate.ledger_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'credit notes are immutable' USING ERRCODE = 'integrity_constraint_violation';
END $$;
"""

# Back to migration 0004's functions (without the purge switch).
REVERSE_SQL = r"""
CREATE OR REPLACE FUNCTION billing_invoice_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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

CREATE OR REPLACE FUNCTION billing_invoice_line_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    invoice_status text;
BEGIN
    SELECT status INTO invoice_status FROM billing_invoice
     WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.invoice_id ELSE NEW.invoice_id END;
    IF invoice_status IS NOT NULL AND invoice_status <> 'draft' THEN
        RAISE EXCEPTION 'the lines of a finalised invoice cannot change' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.invoice_id <> OLD.invoice_id THEN
        SELECT status INTO invoice_status FROM billing_invoice WHERE id = OLD.invoice_id;
        IF invoice_status <> 'draft' THEN
            RAISE EXCEPTION 'the lines of a finalised invoice cannot change' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE OR REPLACE FUNCTION billing_credit_note_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'credit notes are immutable' USING ERRCODE = 'integrity_constraint_violation';
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0008_account_credit_idempotency")]

    operations = [migrations.RunSQL(SQL, REVERSE_SQL)]
