"""Productized services: request, quote inside the range, accept once into a one-time invoice, decline, withdraw."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail

from billing.errors import BillingError
from billing.models import Invoice, Product, ServiceQuote
from billing.quotes.services import (
    QuoteAmountInvalid,
    QuoteStateInvalid,
    service_quote_accept,
    service_quote_decline,
    service_quote_request,
    service_quote_send,
    service_quote_withdraw,
)
from config.money import Money
from tests.support.clock import NOW

OPS = "ops@tollgate.test"
Status = ServiceQuote.Status


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


@pytest.fixture
def audit() -> Product:
    return Product.objects.get(code="website-audit")  # seeded: 299–799 USD


@pytest.fixture
def requested(tenant_alpha, audit) -> ServiceQuote:
    return service_quote_request(tenant=tenant_alpha, product=audit, brief="Audit our checkout",
                                 actor="owner@alpha.test", now=NOW)


@pytest.fixture
def quoted(requested) -> ServiceQuote:
    return service_quote_send(quote=requested, amount=usd("450.00"), note="Two weeks.",
                              valid_until=NOW + timedelta(days=30), actor=OPS, now=NOW)


def test_a_request_needs_a_brief(tenant_alpha, audit):
    with pytest.raises(BillingError) as refused:
        service_quote_request(tenant=tenant_alpha, product=audit, brief="  ", actor="owner@alpha.test", now=NOW)

    assert refused.value.field == "brief"


def test_an_inactive_product_cannot_be_requested(tenant_alpha, audit):
    audit.is_active = False
    audit.save()

    with pytest.raises(BillingError):
        service_quote_request(tenant=tenant_alpha, product=audit, brief="Audit", actor="owner@alpha.test", now=NOW)


@pytest.mark.parametrize("amount", ["298.99", "799.01"])
def test_a_quote_outside_the_products_range_is_refused(requested, amount):
    with pytest.raises(QuoteAmountInvalid) as refused:
        service_quote_send(quote=requested, amount=usd(amount), note="", valid_until=None, actor=OPS, now=NOW)

    assert refused.value.field == "amount"


def test_a_quote_in_another_currency_is_refused(requested):
    with pytest.raises(QuoteAmountInvalid):
        service_quote_send(quote=requested, amount=Money(Decimal("450"), "EUR"), note="", valid_until=None,
                           actor=OPS, now=NOW)


def test_a_quote_with_fractions_of_a_cent_is_refused(requested):
    with pytest.raises(QuoteAmountInvalid):
        service_quote_send(quote=requested, amount=usd("450.005"), note="", valid_until=None, actor=OPS, now=NOW)


def test_sending_a_quote_emails_it_once_committed(requested, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        service_quote_send(quote=requested, amount=usd("450.00"), note="Two weeks.", valid_until=None, actor=OPS,
                           now=NOW)

    [message] = mail.outbox
    assert "450.00 USD" in message.body


def test_accepting_issues_one_time_invoice_for_the_quoted_amount(quoted):
    accepted = service_quote_accept(quote=quoted, actor="owner@alpha.test", now=NOW + timedelta(days=1))

    invoice = accepted.invoice
    assert accepted.status == Status.ACCEPTED
    assert invoice.billing_reason == Invoice.Reason.ONE_TIME and invoice.status == Invoice.Status.OPEN
    assert [(line.description, line.amount) for line in invoice.lines.all()] == [
        (f"Website Audit & Optimization Report (quote #{quoted.pk})", Decimal("450.00"))]
    assert invoice.total == Decimal("450.00")


def test_a_quote_is_accepted_once_and_invoiced_once(quoted):
    service_quote_accept(quote=quoted, actor="owner@alpha.test", now=NOW)

    with pytest.raises(QuoteStateInvalid):
        service_quote_accept(quote=quoted, actor="owner@alpha.test", now=NOW)
    assert Invoice.objects.filter(tenant=quoted.tenant, billing_reason=Invoice.Reason.ONE_TIME).count() == 1


def test_an_expired_quote_cannot_be_accepted(quoted):
    with pytest.raises(QuoteStateInvalid):
        service_quote_accept(quote=quoted, actor="owner@alpha.test", now=NOW + timedelta(days=31))


def test_a_request_not_yet_quoted_cannot_be_accepted(requested):
    with pytest.raises(QuoteStateInvalid):
        service_quote_accept(quote=requested, actor="owner@alpha.test", now=NOW)


def test_a_declined_quote_cannot_be_accepted_later(quoted):
    service_quote_decline(quote=quoted, actor="owner@alpha.test", now=NOW)

    with pytest.raises(QuoteStateInvalid):
        service_quote_accept(quote=quoted, actor="owner@alpha.test", now=NOW)


def test_an_accepted_quote_cannot_be_withdrawn(quoted):
    service_quote_accept(quote=quoted, actor="owner@alpha.test", now=NOW)

    with pytest.raises(QuoteStateInvalid):
        service_quote_withdraw(quote=quoted, actor="owner@alpha.test", now=NOW)


def test_a_request_can_be_withdrawn_before_it_is_quoted(requested):
    assert service_quote_withdraw(quote=requested, actor="owner@alpha.test", now=NOW).status == Status.WITHDRAWN
