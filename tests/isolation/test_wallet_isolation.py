"""Tenant A's API keys and sessions never read or change tenant B's wallet, on the API or the Wallet page."""

import pytest

from metering.models import TokenPack, TokenPurchase, Wallet
from metering.wallets.services import token_purchase_create, wallet_credit, wallet_debit, wallet_threshold_set
from tests.support.api import api_client, api_key_for
from tests.support.tenants import client_for

pytestmark = pytest.mark.django_db

API_PATHS = ["/api/v1/wallet", "/api/v1/wallet/entries"]
BETA_REASON = "Beta private purchase"


@pytest.fixture
def wallets_of_both(tenant_alpha, tenant_beta) -> None:
    """Different balances, thresholds and entries in each tenant, so any mix-up changes what is shown."""
    wallet_credit(tenant=tenant_alpha, tokens=1_111, kind="purchase", reason="Alpha purchase", idempotency_key="p")
    wallet_debit(tenant=tenant_alpha, tokens=11, feature="ai_api", reason="Alpha call", idempotency_key="d")
    wallet_credit(tenant=tenant_beta, tokens=987_654, kind="purchase", reason=BETA_REASON, idempotency_key="p")
    wallet_debit(tenant=tenant_beta, tokens=4_321, feature="coach", reason="Beta chat", idempotency_key="d")
    wallet_threshold_set(tenant=tenant_beta, threshold=777_000)


@pytest.fixture
def beta_purchase(tenant_beta) -> TokenPurchase:
    return token_purchase_create(tenant=tenant_beta, pack=TokenPack.objects.get(code="tokens-1m"),
                                 created_by="owner@beta.test")


# --- API ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", API_PATHS)
def test_a_key_of_tenant_a_is_refused_on_tenant_bs_wallet(tenant_alpha, tenant_beta, wallets_of_both, path):
    response = api_client(tenant_beta, api_key_for(tenant_alpha, scopes=["read"])).get(path)

    assert response.status_code == 401
    assert b"987" not in response.content


def test_alphas_wallet_answers_only_alphas_balance_and_usage(tenant_alpha, wallets_of_both):
    body = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["read"])).get("/api/v1/wallet").json()

    assert (body["balance"], body["low_balance_threshold"]) == (1_100, None)
    assert {usage["feature"]: usage["tokens"] for usage in body["usage_this_month"]} == {
        "ai_api": 11, "coach": 0, "content": 0}


def test_alphas_ledger_lists_only_alphas_entries(tenant_alpha, wallets_of_both):
    body = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["read"])).get("/api/v1/wallet/entries").json()

    assert [entry["reason"] for entry in body["data"]] == ["Alpha call", "Alpha purchase"]


@pytest.mark.parametrize("path", API_PATHS)
def test_an_alpha_session_on_betas_host_gets_nothing_from_the_api(alpha_owner_client, tenant_beta, wallets_of_both,
                                                                  path):
    on_beta = client_for(tenant_beta)
    on_beta.cookies = alpha_owner_client.cookies

    response = on_beta.get(path)

    assert response.status_code == 401
    assert b"987" not in response.content


# --- The Wallet page ---------------------------------------------------------------------------------

def test_alphas_wallet_page_never_shows_betas_wallet(alpha_owner_client, wallets_of_both, beta_purchase):
    response = alpha_owner_client.get("/wallet/")

    assert response.status_code == 200
    for marker in [b"987,654", b"983,333", BETA_REASON.encode(), b"Beta chat", b"777000", b"owner@beta.test",
                   b"Awaiting payment</span>"]:
        assert marker not in response.content, marker


@pytest.mark.parametrize("path", ["/wallet/threshold/", "/wallet/purchases/"])
def test_an_alpha_session_cannot_post_on_betas_wallet(alpha_owner_client, tenant_beta, wallets_of_both, path):
    on_beta = client_for(tenant_beta)
    on_beta.cookies = alpha_owner_client.cookies

    response = on_beta.post(path, {"low_balance_threshold": "1", "pack": "tokens-1m"})

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert Wallet.objects.get(tenant=tenant_beta).low_balance_threshold == 777_000
    assert not TokenPurchase.objects.filter(tenant=tenant_beta).exists()


def test_an_alpha_session_on_betas_wallet_page_is_sent_to_login(alpha_owner_client, tenant_beta):
    on_beta = client_for(tenant_beta)
    on_beta.cookies = alpha_owner_client.cookies

    response = on_beta.get("/wallet/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_alpha_cannot_cancel_betas_order_by_its_id(alpha_owner_client, beta_purchase):
    response = alpha_owner_client.post(f"/wallet/purchases/{beta_purchase.pk}/cancel/")

    assert response.status_code == 404
    assert TokenPurchase.objects.get(pk=beta_purchase.pk).status == "pending"


def test_alphas_settings_and_orders_stay_in_alpha(alpha_owner_client, tenant_alpha, tenant_beta, wallets_of_both):
    alpha_owner_client.post("/wallet/threshold/", {"low_balance_threshold": "5"})
    alpha_owner_client.post("/wallet/purchases/", {"pack": "tokens-100k"})

    assert Wallet.objects.get(tenant=tenant_alpha).low_balance_threshold == 5
    assert Wallet.objects.get(tenant=tenant_beta).low_balance_threshold == 777_000
    assert list(TokenPurchase.objects.values_list("tenant__slug", flat=True)) == ["alpha"]


def test_betas_debt_and_refunds_never_show_in_alphas_wallet(tenant_alpha, tenant_beta, alpha_owner_client):
    from metering.wallets.services import wallet_debit_or_owe, wallet_refund

    wallet_credit(tenant=tenant_alpha, tokens=1_000, kind="purchase", reason="Alpha purchase", idempotency_key="p")
    wallet_debit(tenant=tenant_alpha, tokens=500, feature="ai_api", reason="Alpha call", idempotency_key="ai-reserve:1")
    wallet_credit(tenant=tenant_beta, tokens=100, kind="purchase", reason=BETA_REASON, idempotency_key="p")
    wallet_debit(tenant=tenant_beta, tokens=100, feature="ai_api", reason="Beta call", idempotency_key="ai-reserve:1")
    wallet_debit_or_owe(tenant=tenant_beta, tokens=65_432, feature="ai_api", reason="Beta over",
                        idempotency_key="ai-settle:2")
    # The same debit key in both wallets: the refund goes to alpha's debit only.
    wallet_refund(tenant=tenant_alpha, debit_key="ai-reserve:1", tokens=400, reason="Alpha unused",
                  idempotency_key="ai-settle:1")

    body = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["read"])).get("/api/v1/wallet").json()
    page = alpha_owner_client.get("/wallet/")

    assert (body["balance"], body["owed_tokens"], body["usage_this_month"][0]["tokens"]) == (900, 0, 100)
    assert b"65,432" not in page.content and b'id="wallet-owed"' not in page.content
    assert Wallet.objects.get(tenant=tenant_beta).owed == 65_432
