"""Reseller mode read adversarially: each test plays someone who wants a client's usage paid by nobody, or paid
twice, or paid by the wrong payer, and is named for the attack it stops."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from billing.consolidation import services as consolidation_services
from billing.consolidation.errors import ConsolidatedBillingInvalid
from billing.consolidation.services import (
    consolidated_billing_end,
    consolidated_billing_start,
    consolidated_invoices_issue,
)
from billing.errors import InvoiceStateInvalid
from billing.invoicing.services import credit_note_issue, invoice_mark_paid, invoice_void
from billing.models import ConsolidatedBilling, CreditNote, Invoice
from billing.payments.self_service import invoice_pay_now_url_create
from config.money import Money
from tests.support.clock import NOW
from tests.support.consolidation import billed_through, consolidated_invoices_of, next_month
from tests.support.factories import TenantFactory
from tests.support.payments import stripe_invoice

D = Decimal
OPS = "ops@tollgate.test"


@pytest.fixture
def client_invoice(tenant_alpha, tenant_beta, committed):
    """Alpha billed through beta (20 % off) since before NOW, with a consolidated invoice of 50.00 issued at NOW."""
    billed_through(tenant_alpha, tenant_beta, at=NOW - timedelta(days=30))
    return committed(stripe_invoice, tenant_alpha, "50.00", collection_method="manual")


def test_a_client_switching_to_direct_billing_does_not_leave_its_consolidated_invoices_unpaid(
        client_invoice, tenant_alpha, tenant_beta, committed):
    consolidated_billing_end(client=tenant_alpha, now=NOW + timedelta(hours=1))

    committed(consolidated_invoices_issue, now=next_month(NOW))

    [invoice] = consolidated_invoices_of(tenant_beta)
    assert [line.source_invoice_id for line in invoice.lines.all()] == [client_invoice.pk]
    assert invoice.total == D("40.00")


def test_a_client_of_payer_a_is_never_carried_onto_payer_bs_invoice(client_invoice, tenant_alpha, tenant_beta,
                                                                    committed):
    payer_b = TenantFactory(slug="payer-b")
    billed_through(tenant_alpha, payer_b, at=NOW + timedelta(hours=1))
    later = committed(stripe_invoice, tenant_alpha, "10.00", collection_method="manual")

    committed(consolidated_invoices_issue, now=next_month(NOW))

    [for_a] = consolidated_invoices_of(tenant_beta)
    [for_b] = consolidated_invoices_of(payer_b)
    assert [line.source_invoice_id for line in for_a.lines.all()] == [client_invoice.pk]
    assert [line.source_invoice_id for line in for_b.lines.all()] == [later.pk]


def test_a_client_invoice_carried_meanwhile_by_another_invoice_rolls_the_second_back(client_invoice, tenant_beta,
                                                                                    monkeypatch):
    elsewhere = stripe_invoice(tenant_beta, "1.00", collection_method="manual")
    draft = consolidation_services.consolidated_invoice_draft

    def carried_by_another_run_meanwhile(**kwargs):
        Invoice.objects.filter(pk=client_invoice.pk).update(consolidated_into=elsewhere)
        return draft(**kwargs)

    monkeypatch.setattr(consolidation_services, "consolidated_invoice_draft", carried_by_another_run_meanwhile)

    result = consolidated_invoices_issue(now=next_month(NOW))

    assert (result.invoices_created, len(result.failed)) == (0, 1)
    assert consolidated_invoices_of(tenant_beta) == []
    client_invoice.refresh_from_db()
    assert client_invoice.consolidated_into_id is None  # the other "run" rolled back with this one


def test_a_client_invoice_is_never_on_two_live_payer_invoices(client_invoice, tenant_beta, committed):
    committed(consolidated_invoices_issue, now=next_month(NOW))
    committed(consolidated_invoices_issue, now=next_month(NOW) + timedelta(days=40))

    [invoice] = consolidated_invoices_of(tenant_beta)
    client_invoice.refresh_from_db()
    assert client_invoice.consolidated_into_id == invoice.pk


def test_a_client_cannot_pay_a_consolidated_invoice_by_card_on_its_own(stripe, client_invoice):
    with pytest.raises(InvoiceStateInvalid, match="billed through"):
        invoice_pay_now_url_create(invoice=client_invoice, now=NOW)

    assert stripe.of_type("checkout.session") == []


def test_ops_cannot_mark_a_consolidated_client_invoice_paid_so_its_payer_skips_it(client_invoice, tenant_beta):
    with pytest.raises(InvoiceStateInvalid, match="billed through its payer"):
        invoice_mark_paid(invoice=client_invoice, actor=OPS, now=NOW)

    consolidated_invoices_issue(now=next_month(NOW))
    assert len(consolidated_invoices_of(tenant_beta)) == 1


def test_a_credit_note_cannot_give_a_client_money_it_never_paid(client_invoice):
    with pytest.raises(InvoiceStateInvalid, match="billed through its payer"):
        credit_note_issue(invoice=client_invoice, amount=Money(D("10.00"), "USD"), reason="other", memo="",
                          actor=OPS, now=NOW)

    assert not CreditNote.objects.filter(invoice=client_invoice).exists()


def test_a_carried_client_invoice_cannot_be_voided_while_its_payer_owes_it(client_invoice):
    consolidated_invoices_issue(now=next_month(NOW))
    client_invoice.refresh_from_db()

    with pytest.raises(InvoiceStateInvalid, match="void that one first"):
        invoice_void(invoice=client_invoice, actor=OPS, now=next_month(NOW))


def test_the_payer_of_a_finalised_client_invoice_cannot_be_rewritten(client_invoice, tenant_alpha):
    other = ConsolidatedBilling.objects.create(client=tenant_alpha, payer=TenantFactory(slug="payer-c"),
                                               wholesale_discount_percent=D("90"), started_at=NOW,
                                               ended_at=NOW)

    with pytest.raises(IntegrityError, match="only its settlement may change"), transaction.atomic():
        Invoice.objects.filter(pk=client_invoice.pk).update(consolidated_billing=other)


def test_a_tenant_cannot_be_billed_through_itself_nor_both_ways(tenant_alpha, tenant_beta):
    with pytest.raises(ConsolidatedBillingInvalid):
        consolidated_billing_start(client=tenant_alpha, payer=tenant_alpha, wholesale_discount_percent=D("10"),
                                   now=NOW)
    billed_through(tenant_alpha, tenant_beta, at=NOW)
    with pytest.raises(ConsolidatedBillingInvalid):
        consolidated_billing_start(client=tenant_beta, payer=tenant_alpha, wholesale_discount_percent=D("10"),
                                   now=NOW)


def test_a_discount_above_100_percent_cannot_make_the_payer_owe_less_than_nothing(tenant_alpha, tenant_beta):
    with pytest.raises(ConsolidatedBillingInvalid):
        consolidated_billing_start(client=tenant_alpha, payer=tenant_beta, wholesale_discount_percent=D("120"),
                                   now=NOW)
