"""Tenants read their own finalised invoices and credit notes; drafts and other tenants' documents stay hidden."""

from datetime import timedelta
from decimal import Decimal

from billing.invoicing.selectors import credit_note_list, invoice_get, invoice_list
from billing.invoicing.services import credit_note_issue, invoice_finalize, invoice_void
from billing.models import Invoice, InvoiceLine
from config.money import Money
from tests.support.clock import NOW

OPS = "ops@tollgate.test"


def draft_invoice(tenant, amount: str = "99.00") -> Invoice:
    invoice = Invoice.objects.create(tenant=tenant, billing_reason=Invoice.Reason.MANUAL, currency="USD",
                                     created_at=NOW)
    InvoiceLine.objects.create(invoice=invoice, kind=InvoiceLine.Kind.FIXED, description="Pro",
                               amount_exact=Decimal(amount), amount=Decimal(amount))
    return invoice


def finalised_invoice(tenant, *, now=NOW) -> Invoice:
    return invoice_finalize(invoice=draft_invoice(tenant), now=now)


def test_the_list_holds_the_tenants_finalised_invoices_newest_first(tenant_alpha):
    older = finalised_invoice(tenant_alpha)
    newer = finalised_invoice(tenant_alpha, now=NOW + timedelta(days=30))

    assert list(invoice_list(tenant=tenant_alpha)) == [newer, older]


def test_the_list_leaves_out_drafts(tenant_alpha):
    draft_invoice(tenant_alpha)

    assert list(invoice_list(tenant=tenant_alpha)) == []


def test_the_list_keeps_voided_invoices(tenant_alpha):
    voided = invoice_void(invoice=finalised_invoice(tenant_alpha), actor=OPS, now=NOW)

    assert list(invoice_list(tenant=tenant_alpha)) == [voided]


def test_the_list_leaves_out_other_tenants_invoices(tenant_alpha, tenant_beta):
    finalised_invoice(tenant_beta)

    assert list(invoice_list(tenant=tenant_alpha)) == []


def test_an_invoice_is_found_by_its_number(tenant_alpha):
    invoice = finalised_invoice(tenant_alpha)

    found = invoice_get(tenant=tenant_alpha, number=invoice.number)

    assert found == invoice
    assert [line.description for line in found.lines.all()] == ["Pro"]


def test_another_tenants_invoice_number_finds_nothing(tenant_alpha, tenant_beta):
    invoice = finalised_invoice(tenant_beta)

    assert invoice_get(tenant=tenant_alpha, number=invoice.number) is None


def test_an_unknown_number_finds_nothing(tenant_alpha):
    assert invoice_get(tenant=tenant_alpha, number="TG-2026-999999") is None


def test_credit_notes_are_listed_for_their_tenant_only(tenant_alpha, tenant_beta):
    note = credit_note_issue(invoice=finalised_invoice(tenant_alpha), amount=Money(Decimal("5.00"), "USD"),
                             reason="correction", memo="", actor=OPS, now=NOW)
    credit_note_issue(invoice=finalised_invoice(tenant_beta), amount=Money(Decimal("5.00"), "USD"),
                      reason="correction", memo="", actor=OPS, now=NOW)

    assert list(credit_note_list(tenant=tenant_alpha)) == [note]
