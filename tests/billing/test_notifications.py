"""Billing emails go out once per cause, to the billing contact, with what the reader needs."""

from decimal import Decimal

import pytest
from django.core import mail

from billing.invoicing.services import invoice_finalize
from billing.invoicing.totals import invoice_totals_apply
from billing.models import BillingEmail, BillingProfile, Invoice, InvoiceLine, Product, ServiceQuote
from billing.notifications import billing_email_cause, billing_email_send, billing_recipients
from tests.support.clock import NOW

Kind = BillingEmail.Kind


@pytest.fixture
def issued_invoice(tenant_alpha) -> Invoice:
    invoice = Invoice.objects.create(tenant=tenant_alpha, billing_reason=Invoice.Reason.MANUAL, currency="USD",
                                     created_at=NOW)
    InvoiceLine.objects.create(invoice=invoice, kind=InvoiceLine.Kind.FIXED, description="Pro (monthly)",
                               amount_exact=Decimal("99"), amount=Decimal("99.00"))
    invoice_totals_apply(invoice=invoice)
    return invoice_finalize(invoice=invoice, now=NOW)


def send(kind: str, about) -> BillingEmail | None:
    return billing_email_send(kind=kind, object_id=about.pk, cause=billing_email_cause(kind=kind, about=about),
                              now=NOW)


def test_invoice_issued_email_names_the_number_the_total_and_how_to_pay(issued_invoice):
    send(Kind.INVOICE_ISSUED, issued_invoice)

    [message] = mail.outbox
    assert issued_invoice.number in message.subject and "99.00 USD" in message.subject
    assert "Pro (monthly): 99.00 USD" in message.body
    assert "IBAN" in message.body
    assert f"/billing/invoices/{issued_invoice.number}/" in message.body


def test_the_same_email_is_sent_once_however_often_the_task_runs(issued_invoice):
    first = send(Kind.INVOICE_ISSUED, issued_invoice)
    second = send(Kind.INVOICE_ISSUED, issued_invoice)

    assert first is not None and second is None
    assert len(mail.outbox) == 1
    assert BillingEmail.objects.filter(kind=Kind.INVOICE_ISSUED).count() == 1


def test_paid_and_issued_are_different_causes_of_the_same_invoice(issued_invoice):
    send(Kind.INVOICE_ISSUED, issued_invoice)
    send(Kind.INVOICE_PAID, issued_invoice)

    assert len(mail.outbox) == 2


def test_billing_emails_go_to_the_billing_profile_email_when_set(tenant_alpha):
    BillingProfile.objects.create(tenant=tenant_alpha, email="accounts@alpha.test")

    assert billing_recipients(tenant=tenant_alpha) == ["accounts@alpha.test"]


def test_billing_emails_go_to_the_owners_without_a_billing_email(tenant_alpha):
    assert billing_recipients(tenant=tenant_alpha) == [tenant_alpha.owner_email]


def test_quote_email_states_the_quoted_amount(tenant_alpha):
    product = Product.objects.get(code="website-audit")
    quote = ServiceQuote.objects.create(tenant=tenant_alpha, product=product, brief="Audit our shop", currency="USD",
                                        requested_by="owner@alpha.test", status=ServiceQuote.Status.QUOTED,
                                        amount=Decimal("450.00"), quote_note="Two weeks, fixed price.",
                                        created_at=NOW)

    send(Kind.QUOTE_SENT, quote)

    [message] = mail.outbox
    assert "Website Audit & Optimization Report" in message.subject
    assert "450.00 USD" in message.body and "Two weeks, fixed price." in message.body
