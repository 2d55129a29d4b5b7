"""The card routes and pay now stay within the tenant: B's staff cannot pay A's invoice (nor learn it exists), see
A's card or open A's customer portal; on one tenant only owners and billing members reach them."""

import pytest

from accounts.models import Role
from tests.billing.payments.conftest import stripe, stripe_server, webhook_endpoint  # noqa: F401  (fixtures)
from tests.support.payments import card_saved, stripe_invoice
from tests.support.staff import staff_client
from devtools.stripe_fake import webhook_post
from tests.support.tenants import client_for

pytestmark = pytest.mark.django_db

CHECKOUT_SESSIONS = "/v1/checkout/sessions"
PORTAL_SESSIONS = "/v1/billing_portal/sessions"
ALPHAS_LAST4 = "5556"


@pytest.fixture(autouse=True)
def own_series(settings):
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "ZI", "ZJ"


@pytest.fixture
def deliver(public_client, webhook_endpoint, django_capture_on_commit_callbacks):  # noqa: F811
    def post(event):
        with django_capture_on_commit_callbacks(execute=True):
            response = webhook_post(public_client, webhook_endpoint, event)
        assert response.status_code == 200, response.content
    return post


@pytest.fixture
def alphas_card(stripe, tenant_alpha, deliver):  # noqa: F811
    return card_saved(stripe, tenant_alpha, deliver, last4=ALPHAS_LAST4)


def test_betas_owner_cannot_pay_alphas_invoice_by_its_number(stripe, beta_owner_client, tenant_alpha):  # noqa: F811
    invoice = stripe_invoice(tenant_alpha, "42.50")

    response = beta_owner_client.post(f"/billing/invoices/{invoice.number}/pay/")

    assert response.status_code == 404
    assert invoice.number.encode() not in response.content
    assert not stripe.creates(CHECKOUT_SESSIONS)


def test_betas_billing_page_never_shows_alphas_card(stripe, alphas_card, beta_owner_client):  # noqa: F811
    response = beta_owner_client.get("/billing/")

    assert response.status_code == 200
    assert ALPHAS_LAST4.encode() not in response.content
    assert b"No card on file" in response.content


def test_betas_manage_cards_never_opens_alphas_portal(stripe, alphas_card, beta_owner_client):  # noqa: F811
    response = beta_owner_client.get("/billing/card/portal/")

    assert response["Location"] == "/billing/#billing-card"
    assert not stripe.creates(PORTAL_SESSIONS)


def test_an_alpha_session_on_betas_host_reaches_no_card_route(stripe, alpha_owner_client, tenant_beta):  # noqa: F811
    invoice = stripe_invoice(tenant_beta, "42.50")
    on_beta = client_for(tenant_beta)
    on_beta.cookies = alpha_owner_client.cookies

    for path in ("/billing/card/add/", "/billing/card/portal/", "/billing/card/collection/",
                 f"/billing/invoices/{invoice.number}/pay/"):
        response = on_beta.post(path)

        assert response.status_code == 302, path
        assert "/accounts/login/" in response["Location"], path
    assert not stripe.requests


@pytest.mark.parametrize("role", [Role.MEMBER, Role.ADMIN])
def test_staff_without_the_billing_role_are_refused_every_card_route(stripe, tenant_alpha, role):  # noqa: F811
    invoice = stripe_invoice(tenant_alpha, "42.50")
    client = staff_client(tenant_alpha, role)

    refused = [client.post("/billing/card/add/"), client.get("/billing/card/portal/"),
               client.post("/billing/card/portal/"), client.post("/billing/card/collection/"),
               client.post(f"/billing/invoices/{invoice.number}/pay/")]

    assert [response.status_code for response in refused] == [403] * 5
    assert not stripe.requests


def test_a_billing_member_may_add_a_card(stripe, tenant_alpha):  # noqa: F811
    response = staff_client(tenant_alpha, Role.BILLING).post("/billing/card/add/")

    assert response.status_code == 303
    assert len(stripe.creates(CHECKOUT_SESSIONS)) == 1
