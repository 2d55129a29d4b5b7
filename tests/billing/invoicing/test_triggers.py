"""The database itself keeps a finalised invoice as it was issued: these tests go around the services (raw ORM
updates and deletes, as a bug or a shell would) and expect PostgreSQL to refuse."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from billing.invoicing.services import credit_note_issue, invoice_finalize
from billing.models import CreditNote, Invoice, InvoiceLine
from config.money import Money
from tests.support.clock import NOW

Status = Invoice.Status


@pytest.fixture
def issued(tenant_alpha) -> Invoice:
    invoice = Invoice.objects.create(tenant=tenant_alpha, billing_reason=Invoice.Reason.MANUAL, currency="USD",
                                     created_at=NOW)
    InvoiceLine.objects.create(invoice=invoice, kind=InvoiceLine.Kind.FIXED, description="Pro",
                               amount_exact=Decimal("99.00"), amount=Decimal("99.00"))
    return invoice_finalize(invoice=invoice, now=NOW)


INVOICE_GUARD = "is finalised"
LINE_GUARD = "lines of a finalised invoice"
CREDIT_NOTE_GUARD = "credit notes are immutable"


def refused(guard: str):
    """Expect the trigger whose message holds `guard` to refuse (each use runs in a savepoint, so that the
    test's transaction goes on)."""
    return pytest.raises(IntegrityError, match=guard)


def invoice_rows(invoice: Invoice):
    return Invoice.objects.filter(pk=invoice.pk)


@pytest.mark.parametrize("change", [
    {"total": Decimal("1.00")},
    {"subtotal": Decimal("1.00")},
    {"tax_total": Decimal("1.00")},
    {"amount_due": Decimal("0.00")},
    {"credit_applied": Decimal("99.00")},
    {"number": "TG-2026-000099"},
    {"currency": "EUR"},
    {"customer": {"name": "Someone else"}},
    {"issued_at": NOW.replace(year=2025)},
    {"due_at": NOW.replace(year=2030)},
])
def test_the_database_refuses_to_change_what_a_finalised_invoice_says(issued, change):
    with refused(INVOICE_GUARD), transaction.atomic():
        invoice_rows(issued).update(**change)


def test_the_database_refuses_to_turn_a_finalised_invoice_back_into_a_draft(issued):
    with refused(INVOICE_GUARD), transaction.atomic():
        invoice_rows(issued).update(status=Status.DRAFT, number=None)


def test_the_database_refuses_to_reopen_a_paid_invoice(issued):
    invoice_rows(issued).update(status=Status.PAID, amount_paid=Decimal("99.00"), paid_at=NOW)

    with refused(INVOICE_GUARD), transaction.atomic():
        invoice_rows(issued).update(status=Status.OPEN)


def test_the_database_refuses_to_revive_a_void_invoice(issued):
    invoice_rows(issued).update(status=Status.VOID, voided_at=NOW)

    with refused(INVOICE_GUARD), transaction.atomic():
        invoice_rows(issued).update(status=Status.OPEN)


def test_the_database_refuses_to_delete_a_finalised_invoice(tenant_alpha):
    # Without lines, so that only the invoice's own trigger stands in the way.
    issued = invoice_finalize(invoice=Invoice.objects.create(tenant=tenant_alpha, billing_reason=Invoice.Reason.MANUAL,
                                                             currency="USD", created_at=NOW), now=NOW)

    with refused(INVOICE_GUARD), transaction.atomic():
        invoice_rows(issued).delete()


def test_the_database_refuses_to_change_a_finalised_invoices_line(issued):
    with refused(LINE_GUARD), transaction.atomic():
        InvoiceLine.objects.filter(invoice=issued).update(amount=Decimal("1.00"))


def test_the_database_refuses_to_delete_a_finalised_invoices_line(issued):
    with refused(LINE_GUARD), transaction.atomic():
        InvoiceLine.objects.filter(invoice=issued).delete()


def test_the_database_refuses_a_new_line_on_a_finalised_invoice(issued):
    with refused(LINE_GUARD), transaction.atomic():
        InvoiceLine.objects.create(invoice=issued, kind=InvoiceLine.Kind.ONE_TIME, description="Late fee",
                                   amount_exact=Decimal("5.00"), amount=Decimal("5.00"))


def test_the_database_refuses_to_move_a_line_off_a_finalised_invoice(issued, tenant_alpha):
    draft = Invoice.objects.create(tenant=tenant_alpha, billing_reason=Invoice.Reason.MANUAL, currency="USD",
                                   created_at=NOW)

    with refused(LINE_GUARD), transaction.atomic():
        InvoiceLine.objects.filter(invoice=issued).update(invoice=draft)


def test_the_settlement_of_a_finalised_invoice_may_change(issued):
    invoice_rows(issued).update(status=Status.PAID, amount_paid=Decimal("99.00"), paid_at=NOW)

    assert Invoice.objects.get(pk=issued.pk).status == Status.PAID


def test_a_drafts_lines_and_amounts_may_change(tenant_alpha):
    draft = Invoice.objects.create(tenant=tenant_alpha, billing_reason=Invoice.Reason.MANUAL, currency="USD",
                                   created_at=NOW)
    line = InvoiceLine.objects.create(invoice=draft, kind=InvoiceLine.Kind.FIXED, description="Pro",
                                      amount_exact=Decimal("99.00"), amount=Decimal("99.00"))

    InvoiceLine.objects.filter(pk=line.pk).update(amount=Decimal("19.00"))
    Invoice.objects.filter(pk=draft.pk).update(total=Decimal("19.00"))
    draft.delete()

    assert not Invoice.objects.filter(pk=draft.pk).exists()


@pytest.fixture
def credit_note(issued) -> CreditNote:
    return credit_note_issue(invoice=issued, amount=Money(Decimal("10.00"), "USD"), reason="correction", memo="",
                             actor="ops@tollgate.test", now=NOW)


def test_the_database_refuses_to_change_a_credit_note(credit_note):
    with refused(CREDIT_NOTE_GUARD), transaction.atomic():
        CreditNote.objects.filter(pk=credit_note.pk).update(amount=Decimal("99.00"))


def test_the_database_refuses_to_delete_a_credit_note(credit_note):
    # In SQL: the ORM would stop first, at the ledger entry that protects the note.
    with refused(CREDIT_NOTE_GUARD), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM billing_creditnote WHERE id = %s", [credit_note.pk])
