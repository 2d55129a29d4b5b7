"""Tenant B's staff never reach tenant A's invoices (page, PDF, usage behind a line) by guessing numbers or ids,
never answer A's quotes, and B's Billing page never shows A's data; an A session on B's host gets nothing."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from billing.invoicing.run import billing_run
from billing.invoicing.services import credit_note_issue
from billing.models import BillingProfile, Invoice, InvoiceLine, Price, Product, ServiceQuote
from billing.quotes.services import service_quote_request, service_quote_send
from billing.services import billing_profile_update
from billing.subscriptions.services import subscription_start
from config.money import Money
from tests.support.clock import NOW
from tests.support.tenants import client_for
from tests.support.usage import api_calls

pytestmark = pytest.mark.django_db

NOV_1 = datetime(2026, 11, 1, tzinfo=UTC)
DEC_1 = datetime(2026, 12, 1, tzinfo=UTC)
ALPHA_LEGAL_NAME = "Alpha Secret Holdings"
ALPHA_BRIEF = "Alpha's confidential checkout audit"


@pytest.fixture
def alphas_billing(tenant_alpha, frozen_now) -> Invoice:
    """Alpha on Pro since November 1, its November billed on December 1 (usage, a credit note), its details, and
    a quoted service; returns the cycle invoice."""
    subscription_start(tenant=tenant_alpha, price=Price.objects.get(code="pro-month-usd"), actor="owner@alpha.test",
                       now=NOV_1, trial=False)
    api_calls(tenant_alpha, 3)
    billing_profile_update(tenant=tenant_alpha, legal_name=ALPHA_LEGAL_NAME, email="", address_line1="",
                           address_line2="", city="", postal_code="", region="", country="US", tax_id="")
    quote = service_quote_request(tenant=tenant_alpha, product=Product.objects.get(code="website-audit"),
                                  brief=ALPHA_BRIEF, actor="owner@alpha.test", now=NOW)
    service_quote_send(quote=quote, amount=Money(Decimal("777.00"), "USD"), note="", valid_until=None,
                       actor="ops@tollgate.test", now=NOW)
    frozen_now.move_to(DEC_1 + timedelta(hours=1))
    billing_run(now=DEC_1 + timedelta(hours=1))
    invoice = Invoice.objects.get(tenant=tenant_alpha, billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE)
    credit_note_issue(invoice=invoice, amount=Money(Decimal("1.00"), "USD"), reason="correction", memo="",
                      actor="ops@tollgate.test", now=DEC_1 + timedelta(hours=1))
    return invoice


def alphas_paths(invoice: Invoice) -> list[str]:
    line = invoice.lines.get(kind=InvoiceLine.Kind.USAGE, meter_code="api_calls")
    return [f"/billing/invoices/{invoice.number}/", f"/billing/invoices/{invoice.number}.pdf",
            f"/billing/invoices/{invoice.number}/lines/{line.pk}/usage/",
            f"/billing/invoices/{invoice.number}/lines/{line.pk}/usage/?format=csv"]


def test_betas_owner_cannot_open_alphas_invoice_pdf_or_usage_by_its_number(beta_owner_client, alphas_billing):
    for path in alphas_paths(alphas_billing):
        response = beta_owner_client.get(path)

        assert response.status_code == 404, path
        assert alphas_billing.number.encode() not in response.content


def test_betas_own_invoice_number_does_not_open_alphas_usage_lines(beta_owner_client, tenant_beta, alphas_billing,
                                                                    frozen_now):
    subscription_start(tenant=tenant_beta, price=Price.objects.get(code="agency-month-usd"), actor="owner@beta.test",
                       now=DEC_1 + timedelta(hours=1), trial=False)
    betas = Invoice.objects.get(tenant=tenant_beta)
    alphas_line = alphas_billing.lines.get(kind=InvoiceLine.Kind.USAGE, meter_code="api_calls")

    response = beta_owner_client.get(f"/billing/invoices/{betas.number}/lines/{alphas_line.pk}/usage/")

    assert response.status_code == 404


def test_betas_billing_page_never_shows_alphas_billing(beta_owner_client, alphas_billing):
    response = beta_owner_client.get("/billing/")

    assert response.status_code == 200
    credit_note = alphas_billing.credit_notes.get()
    for marker in [alphas_billing.number, credit_note.number, ALPHA_LEGAL_NAME, ALPHA_BRIEF, "777.00",
                   'plan-name">Pro<', "1.00 USD"]:
        assert marker.encode() not in response.content, marker


def test_betas_owner_cannot_answer_alphas_quote(beta_owner_client, alphas_billing, tenant_alpha):
    quote = ServiceQuote.objects.get(tenant=tenant_alpha)

    for answer in ["accept", "decline", "withdraw"]:
        assert beta_owner_client.post(f"/billing/services/{quote.pk}/{answer}/").status_code == 404

    quote.refresh_from_db()
    assert (quote.status, quote.invoice) == ("quoted", None)


def test_betas_details_form_writes_betas_profile_only(beta_owner_client, tenant_beta, alphas_billing, tenant_alpha):
    beta_owner_client.post("/billing/details/", {"legal_name": "Beta Ltd", "country": "US"})

    assert BillingProfile.objects.get(tenant=tenant_beta).legal_name == "Beta Ltd"
    assert BillingProfile.objects.get(tenant=tenant_alpha).legal_name == ALPHA_LEGAL_NAME


def test_an_alpha_session_on_betas_host_gets_no_billing_page(alpha_owner_client, tenant_beta):
    on_beta = client_for(tenant_beta)
    on_beta.cookies = alpha_owner_client.cookies

    response = on_beta.get("/billing/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_alpha_session_on_betas_host_cannot_change_betas_billing(alpha_owner_client, tenant_beta, frozen_now):
    on_beta = client_for(tenant_beta)
    on_beta.cookies = alpha_owner_client.cookies

    on_beta.post("/billing/subscription/start/", {"price": "pro-month-usd", "quantity": 1})
    on_beta.post("/billing/details/", {"legal_name": "Hijacked", "country": "US"})

    assert not BillingProfile.objects.filter(tenant=tenant_beta).exists()
    assert not Invoice.objects.filter(tenant=tenant_beta).exists()
