"""Token packs sold on invoices: tenant A's staff never see, cancel or get the tokens of tenant B's orders, on the
Wallet page or through the invoice pages behind it."""

import pytest
from django.utils import timezone

from billing.invoicing.services import invoice_mark_paid
from billing.models import Invoice
from billing.token_packs import TokenPackOrder, token_pack_purchase
from metering.models import TokenPack, TokenPurchase, Wallet
from tests.support.tenants import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def beta_order(tenant_beta) -> TokenPackOrder:
    return token_pack_purchase(tenant=tenant_beta, pack=TokenPack.objects.get(code="tokens-1m"),
                               actor="owner@beta.test", now=timezone.now())


def test_alphas_wallet_page_does_not_show_betas_order_or_invoice(alpha_owner_client, beta_order):
    response = alpha_owner_client.get("/wallet/")

    assert beta_order.invoice.number.encode() not in response.content
    assert f'data-order="{beta_order.purchase.pk}"'.encode() not in response.content


def test_alpha_cannot_cancel_betas_order(alpha_owner_client, beta_order):
    response = alpha_owner_client.post(f"/wallet/purchases/{beta_order.purchase.pk}/cancel/")

    assert response.status_code == 404
    assert TokenPurchase.objects.get(pk=beta_order.purchase.pk).status == "pending"
    assert Invoice.objects.get(pk=beta_order.invoice.pk).status == "open"


@pytest.mark.parametrize("suffix", ["/", ".pdf"])
def test_alpha_cannot_open_betas_token_pack_invoice(alpha_owner_client, beta_order, suffix):
    response = alpha_owner_client.get(f"/billing/invoices/{beta_order.invoice.number}{suffix}")

    assert response.status_code == 404


def test_an_alpha_session_on_betas_host_cannot_order_for_beta(alpha_owner_client, tenant_beta):
    on_beta = client_for(tenant_beta)
    on_beta.cookies = alpha_owner_client.cookies

    response = on_beta.post("/wallet/purchases/", {"pack": "tokens-1m"})

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not TokenPurchase.objects.filter(tenant=tenant_beta).exists()


def test_paying_betas_invoice_credits_beta_only(tenant_alpha, tenant_beta, beta_order):
    invoice_mark_paid(invoice=beta_order.invoice, actor="ops@tollgate.test", now=timezone.now())

    assert Wallet.objects.get(tenant=tenant_beta).balance == 1_000_000
    assert not Wallet.objects.filter(tenant=tenant_alpha, balance__gt=0).exists()


def test_alpha_ordering_the_same_pack_gets_its_own_order_and_invoice(tenant_alpha, alpha_owner_client, beta_order):
    alpha_owner_client.post("/wallet/purchases/", {"pack": "tokens-1m"})

    alpha_purchase = TokenPurchase.objects.get(tenant=tenant_alpha)
    assert alpha_purchase.pk != beta_order.purchase.pk
    assert alpha_purchase.invoice.tenant_id == tenant_alpha.pk != beta_order.invoice.tenant_id
