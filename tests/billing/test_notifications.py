"""Billing notifications go out once per cause, to the billing contact, with what the reader needs."""

from decimal import Decimal

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from billing.invoicing.services import invoice_finalize
from billing.invoicing.totals import invoice_totals_apply
from billing.models import BillingEmail, BillingProfile, Invoice, InvoiceLine, Product, ServiceQuote
from billing.notifications import billing_email_cause, billing_email_send
from notifications.models import Notification, NotificationEmail
from tests.support.clock import NOW
from tests.support.staff import staff_user_create

Kind = BillingEmail.Kind


@pytest.fixture
def issued_invoice(tenant_alpha) -> Invoice:
    invoice = Invoice.objects.create(tenant=tenant_alpha, billing_reason=Invoice.Reason.MANUAL, currency="USD",
                                     created_at=NOW)
    InvoiceLine.objects.create(invoice=invoice, kind=InvoiceLine.Kind.FIXED, description="Pro (monthly)",
                               amount_exact=Decimal("99"), amount=Decimal("99.00"))
    invoice_totals_apply(invoice=invoice)
    return invoice_finalize(invoice=invoice, now=NOW)


def send(kind: str, about):
    return billing_email_send(kind=kind, object_id=about.pk, cause=billing_email_cause(kind=kind, about=about),
                              now=NOW)


def test_invoice_issued_email_names_the_number_the_total_and_how_to_pay(issued_invoice,
                                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send(Kind.INVOICE_ISSUED, issued_invoice)

    [message] = mail.outbox
    assert issued_invoice.number in message.subject and "99.00 USD" in message.subject
    assert "Pro (monthly): 99.00 USD" in message.body
    assert "IBAN" in message.body
    assert f"/billing/invoices/{issued_invoice.number}/" in message.body


def test_the_same_notification_is_sent_once_however_often_the_task_runs(issued_invoice,
                                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = send(Kind.INVOICE_ISSUED, issued_invoice)
        second = send(Kind.INVOICE_ISSUED, issued_invoice)

    assert first.email is not None and second.email is None
    assert len(mail.outbox) == 1
    cause = billing_email_cause(kind=Kind.INVOICE_ISSUED, about=issued_invoice)
    with schema_context("alpha"):
        assert NotificationEmail.objects.filter(category="invoice_issued", cause=cause).count() == 1
        assert Notification.objects.filter(category="invoice_issued", cause=cause).count() == 1


def test_paid_and_issued_are_different_causes_of_the_same_invoice(issued_invoice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send(Kind.INVOICE_ISSUED, issued_invoice)
        send(Kind.INVOICE_PAID, issued_invoice)

    assert len(mail.outbox) == 2


def test_billing_emails_go_to_the_billing_profile_email_when_set(tenant_alpha, issued_invoice,
                                                                django_capture_on_commit_callbacks):
    BillingProfile.objects.create(tenant=tenant_alpha, email="accounts@alpha.test")

    with django_capture_on_commit_callbacks(execute=True):
        send(Kind.INVOICE_ISSUED, issued_invoice)

    assert [message.to for message in mail.outbox] == [["accounts@alpha.test"]]


def test_billing_emails_go_to_the_owners_and_billing_members_not_to_other_roles(tenant_alpha, issued_invoice,
                                                                               django_capture_on_commit_callbacks):
    for role in ("billing", "admin", "member"):
        staff_user_create(tenant_alpha, role)

    with django_capture_on_commit_callbacks(execute=True):
        send(Kind.INVOICE_ISSUED, issued_invoice)

    [message] = mail.outbox
    assert sorted(message.to) == ["billing@alpha.test", tenant_alpha.owner_email]
    cause = billing_email_cause(kind=Kind.INVOICE_ISSUED, about=issued_invoice)
    with schema_context("alpha"):
        told = set(Notification.objects.filter(cause=cause).values_list("recipient__email", flat=True))
    assert told == {"billing@alpha.test", tenant_alpha.owner_email}


def test_the_paid_invoice_appears_in_the_owners_bell_with_a_link_to_it(issued_invoice,
                                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send(Kind.INVOICE_PAID, issued_invoice)

    with schema_context("alpha"):
        notification = Notification.objects.get(category="payment_succeeded",
                                                cause=billing_email_cause(kind=Kind.INVOICE_PAID, about=issued_invoice))
    assert notification.link == f"/billing/invoices/{issued_invoice.number}/"
    assert issued_invoice.number in notification.body


def test_quote_email_states_the_quoted_amount(tenant_alpha, django_capture_on_commit_callbacks):
    product = Product.objects.get(code="website-audit")
    quote = ServiceQuote.objects.create(tenant=tenant_alpha, product=product, brief="Audit our shop", currency="USD",
                                        requested_by="owner@alpha.test", status=ServiceQuote.Status.QUOTED,
                                        amount=Decimal("450.00"), quote_note="Two weeks, fixed price.",
                                        created_at=NOW)

    with django_capture_on_commit_callbacks(execute=True):
        send(Kind.QUOTE_SENT, quote)

    [message] = mail.outbox
    assert "Website Audit & Optimization Report" in message.subject
    assert "450.00 USD" in message.body and "Two weeks, fixed price." in message.body
