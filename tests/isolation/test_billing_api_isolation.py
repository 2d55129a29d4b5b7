"""Tenant B can never read or change tenant A's subscription, invoices, invoice PDFs, credit notes or account
credit through the API: not with its keys on A's host, not with A's session on its own host, not by guessing
A's invoice numbers on its own host (answered exactly like numbers that do not exist)."""

import json
from decimal import Decimal

import pytest

from billing.invoicing.services import credit_note_issue, invoice_finalize
from billing.models import Invoice, InvoiceLine, Price, Subscription
from billing.subscriptions.services import subscription_start
from config.money import Money
from tests.support.api import api_client, api_key_for
from tests.support.clock import NOW
from tests.support.tenants import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

OPS = "ops@tollgate.test"
SCOPES = ["read", "billing"]
CHANGES = [("POST", "/api/v1/subscription", {"price": "business-month-usd"}),
           ("POST", "/api/v1/subscription/cancel", {"at_period_end": False}),
           ("POST", "/api/v1/subscription/reactivate", {}),
           ("POST", "/api/v1/subscription/preview", {"quantity": 2})]
READS = [("GET", path, None) for path in [
    "/api/v1/subscription", "/api/v1/plans/compare", "/api/v1/invoices", "/api/v1/invoices/{number}",
    "/api/v1/invoices/{number}.pdf", "/api/v1/invoices/upcoming", "/api/v1/credit-notes", "/api/v1/credit-balance"]]


@pytest.fixture
def alpha_billing(tenant_alpha) -> dict:
    """Alpha on Pro (its start invoice issued), with a credit note of 12.34 USD on another invoice."""
    subscription = subscription_start(tenant=tenant_alpha, price=Price.objects.get(code="pro-month-usd"),
                                      actor=OPS, now=NOW, trial=False)
    draft = Invoice.objects.create(tenant=tenant_alpha, billing_reason=Invoice.Reason.MANUAL, currency="USD",
                                   created_at=NOW)
    InvoiceLine.objects.create(invoice=draft, kind=InvoiceLine.Kind.FIXED, description="Alpha consulting",
                               amount_exact=Decimal("777.00"), amount=Decimal("777.00"))
    invoice = invoice_finalize(invoice=draft, now=NOW)
    note = credit_note_issue(invoice=invoice, amount=Money(Decimal("12.34"), "USD"), reason="correction",
                             memo="alpha memo", actor=OPS, now=NOW)
    return {"subscription": subscription, "invoice": invoice, "note": note}


def send(client, method: str, path: str, body: dict | None, **headers):
    return client.generic(method, path, json.dumps(body or {}), content_type="application/json",
                          HTTP_IDEMPOTENCY_KEY="isolation", **headers)


def assert_alpha_unchanged(alpha_billing) -> None:
    subscription = Subscription.objects.get(pk=alpha_billing["subscription"].pk)
    assert (subscription.status, subscription.price.code, subscription.cancel_at_period_end) == (
        "active", "pro-month-usd", False)


@pytest.mark.parametrize(("method", "path", "body"), CHANGES + READS)
def test_a_key_of_tenant_b_is_refused_on_tenant_as_billing_endpoints(tenant_alpha, tenant_beta, alpha_billing,
                                                                     method, path, body):
    on_alpha = api_client(tenant_alpha, api_key_for(tenant_beta, scopes=SCOPES))

    response = send(on_alpha, method, path.format(number=alpha_billing["invoice"].number), body)

    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_api_key"
    assert_alpha_unchanged(alpha_billing)


@pytest.mark.parametrize(("method", "path", "body"), CHANGES + READS)
def test_a_session_of_tenant_a_is_refused_on_tenant_bs_billing_endpoints(alpha_owner_client, tenant_beta,
                                                                        alpha_billing, method, path, body):
    on_beta = client_for(tenant_beta)
    on_beta.cookies = alpha_owner_client.cookies

    response = send(on_beta, method, path.format(number=alpha_billing["invoice"].number), body)

    assert response.status_code in (401, 403)
    assert_alpha_unchanged(alpha_billing)


@pytest.mark.parametrize("suffix", ["", ".pdf"])
def test_a_guessed_invoice_number_of_tenant_a_answers_like_one_that_does_not_exist(tenant_beta, alpha_billing,
                                                                                   suffix):
    beta = api_client(tenant_beta, api_key_for(tenant_beta, scopes=SCOPES))

    guessed = beta.get(f"/api/v1/invoices/{alpha_billing['invoice'].number}{suffix}")
    unknown = beta.get(f"/api/v1/invoices/TG-2099-999999{suffix}")

    assert guessed.status_code == unknown.status_code == 404
    assert guessed.json() == unknown.json()


def test_tenant_bs_changes_never_reach_tenant_as_subscription(tenant_beta, alpha_billing):
    beta = api_client(tenant_beta, api_key_for(tenant_beta, scopes=SCOPES))

    answers = [send(beta, method, path, body).status_code for method, path, body in CHANGES[1:]]

    assert answers == [409, 409, 409]  # beta has no subscription of its own
    assert_alpha_unchanged(alpha_billing)


def test_tenant_bs_answers_never_contain_tenant_as_billing_data(tenant_beta, alpha_billing):
    beta = api_client(tenant_beta, api_key_for(tenant_beta, scopes=SCOPES))

    bodies = [beta.get(path).content for path in [
        "/api/v1/subscription", "/api/v1/invoices", "/api/v1/invoices/upcoming", "/api/v1/credit-notes",
        "/api/v1/credit-balance", "/api/v1/plans/compare"]]

    numbers = [number.encode() for number in Invoice.objects.filter(tenant=alpha_billing["invoice"].tenant)
               .exclude(number=None).values_list("number", flat=True)]
    for body in bodies:
        for marker in [*numbers, alpha_billing["note"].number.encode(), b"777.00", b"12.34", b"Alpha",
                       b"alpha memo"]:
            assert marker not in body
