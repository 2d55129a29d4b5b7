"""Token packs and quotes paid in Checkout stay within the tenant: the return route of A's invoice is not found on
B's host (nor does it tell B anything of A's order), and on A's host only billing staff reach it; an API key
orders packs for its own tenant only."""

import pytest
from django.utils import timezone

from accounts.models import Role
from billing.token_packs import TokenPackOrder, token_pack_purchase
from metering.models import TokenPack, TokenPurchase
from tests.billing.payments.conftest import stripe, stripe_server  # noqa: F401  (fixtures)
from tests.support.api import api_client, api_key_for
from tests.support.staff import staff_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_series(settings):
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "ZK", "ZL"


@pytest.fixture
def alpha_order(tenant_alpha) -> TokenPackOrder:
    return token_pack_purchase(tenant=tenant_alpha, pack=TokenPack.objects.get(code="tokens-1m"),
                               actor="owner@alpha.test", now=timezone.now())


@pytest.mark.parametrize("result", ["paid", "canceled"])
def test_betas_owner_cannot_reach_alphas_checkout_return(stripe, beta_owner_client, alpha_order,  # noqa: F811
                                                         result):
    response = beta_owner_client.get(f"/billing/invoices/{alpha_order.invoice.number}/checkout/{result}/")

    assert response.status_code == 404
    assert TokenPurchase.objects.get(pk=alpha_order.purchase.pk).status == TokenPurchase.Status.PENDING


def test_a_member_of_alpha_cannot_reach_its_checkout_return(stripe, tenant_alpha, alpha_order):  # noqa: F811
    member = staff_client(tenant_alpha, Role.MEMBER)

    response = member.get(f"/billing/invoices/{alpha_order.invoice.number}/checkout/paid/")

    assert response.status_code == 403


def test_betas_order_on_betas_host_opens_a_checkout_page_for_beta_only(stripe, beta_owner_client,  # noqa: F811
                                                                       tenant_beta, alpha_order):
    response = beta_owner_client.post("/wallet/purchases/", {"pack": "tokens-1m"})

    [session] = stripe.of_type("checkout.session")
    assert response["Location"] == session["url"]
    assert session["metadata"]["tenant_id"] == str(tenant_beta.pk)
    assert session["metadata"]["invoice_id"] != str(alpha_order.invoice.pk)
    assert session["success_url"].startswith("http://beta.localhost/")


def test_alphas_api_key_cannot_order_a_pack_on_betas_host(tenant_alpha, tenant_beta):
    on_beta = api_client(tenant_beta, api_key_for(tenant_alpha))

    response = on_beta.post("/api/v1/wallet/purchases", {"pack": "tokens-1m"}, content_type="application/json",
                            HTTP_IDEMPOTENCY_KEY="cross-tenant")

    assert response.status_code == 401
    assert not TokenPurchase.objects.filter(tenant__in=[tenant_alpha, tenant_beta]).exists()


def test_an_api_order_is_placed_for_the_keys_tenant_only(tenant_alpha, tenant_beta):
    on_beta = api_client(tenant_beta, api_key_for(tenant_beta))

    response = on_beta.post("/api/v1/wallet/purchases", {"pack": "tokens-1m"}, content_type="application/json",
                            HTTP_IDEMPOTENCY_KEY="beta-order")

    assert response.status_code == 201
    assert not TokenPurchase.objects.filter(tenant=tenant_alpha).exists()
    assert TokenPurchase.objects.get(tenant=tenant_beta).pk == response.json()["id"]
