"""Card refunds and disputes stay with ops and with their own tenant: their admin lists are for ops only (nothing
on a tenant host, a sign-in page for anyone else on the public host), and a tenant's invoice page never shows
another tenant's dispute or refund."""

import pytest

from billing.invoicing.services import credit_note_issue
from billing.models import CreditNote, Dispute, Invoice
from billing.payments.services import invoice_charge
from config.money import Money
from devtools.stripe_fake import webhook_post
from tests.billing.payments.conftest import stripe, stripe_server, webhook_endpoint  # noqa: F401  (fixtures)
from tests.support.clock import NOW
from tests.support.payments import card_on_file, stripe_invoice
from tests.support.tenants import logged_in_client

pytestmark = pytest.mark.django_db

REFUNDS = "/admin/billing/cardrefund/"
DISPUTES = "/admin/billing/dispute/"


@pytest.fixture(autouse=True)
def own_series(settings):
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "YR", "YS"


@pytest.mark.parametrize("url", [REFUNDS, DISPUTES])
def test_an_anonymous_visitor_is_sent_to_sign_in(public_client, url):
    response = public_client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", [REFUNDS, DISPUTES])
def test_a_tenant_owner_gets_nothing_on_the_public_host(tenant_alpha, url):
    response = logged_in_client(tenant_alpha).get(url, HTTP_HOST="localhost")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", [REFUNDS, DISPUTES])
def test_there_is_no_refund_or_dispute_list_on_a_tenant_host(tenant_alpha, url):
    assert logged_in_client(tenant_alpha).get(url).status_code == 404


def test_alphas_invoice_page_shows_neither_betas_dispute_nor_betas_refund(stripe, tenant_alpha,  # noqa: F811
                                                                          tenant_beta, public_client,
                                                                          webhook_endpoint,  # noqa: F811
                                                                          django_capture_on_commit_callbacks):
    invoices = {}
    for tenant in (tenant_alpha, tenant_beta):
        card_on_file(stripe, tenant)
        invoices[tenant.slug] = stripe_invoice(tenant, "25.00")
        invoice_charge(invoice=invoices[tenant.slug], attempt=1, now=NOW)
    beta = Invoice.objects.get(pk=invoices["beta"].pk)
    with django_capture_on_commit_callbacks(execute=True):
        note = credit_note_issue(invoice=beta, amount=Money(beta.total, "USD"), reason="duplicate", memo="",
                                 actor="ops", now=NOW, refund_to=CreditNote.RefundTo.CARD)
    dispute = stripe.dispute_open(stripe.get(beta.payments.get().payment_intent_id)["latest_charge"])
    webhook_post(public_client, webhook_endpoint, stripe.event("charge.dispute.created", dispute["id"]))
    assert Dispute.objects.get().tenant_id == tenant_beta.pk

    page = logged_in_client(tenant_alpha).get(f"/billing/invoices/{invoices['alpha'].number}/").content.decode()
    betas = logged_in_client(tenant_alpha).get(f"/billing/invoices/{beta.number}/")

    assert "Disputed" not in page and note.number not in page
    assert betas.status_code == 404
