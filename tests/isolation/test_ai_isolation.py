"""Tenant A's key cannot spend tenant B's AI tokens: on B's host it is refused before anything is reserved."""

import pytest

from metering.models import Wallet, WalletEntry
from metering.wallet_services import wallet_credit
from tests.metering.test_ai_api import PROMPT, post, upstream  # noqa: F401 (upstream is a fixture)
from tests.support.api import api_client, api_key_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/ai/messages", "/api/v1/ai/code"])
def test_a_key_of_tenant_a_is_refused_on_tenant_bs_ai_api(upstream, tenant_alpha, tenant_beta, path):  # noqa: F811
    wallet_credit(tenant=tenant_beta, tokens=10_000, kind="purchase", reason="Purchase", idempotency_key="bought")
    client = api_client(tenant_beta, api_key_for(tenant_alpha, scopes=["ai"]))

    response = post(client, PROMPT if path.endswith("messages") else {"description": "x"}, path=path)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert upstream.requests == []
    assert Wallet.objects.get(tenant=tenant_beta).balance == 10_000
    assert WalletEntry.objects.filter(wallet__tenant=tenant_beta).count() == 1
    assert not Wallet.objects.filter(tenant=tenant_alpha, entries__isnull=False).exists()


def test_each_tenant_pays_for_its_own_requests(upstream, tenant_alpha, tenant_beta):  # noqa: F811
    for tenant in (tenant_alpha, tenant_beta):
        wallet_credit(tenant=tenant, tokens=10_000, kind="purchase", reason="Purchase", idempotency_key="bought")

    response = post(api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["ai"])), PROMPT)

    assert response.status_code == 200
    assert Wallet.objects.get(tenant=tenant_alpha).balance == 10_000 - 15
    assert Wallet.objects.get(tenant=tenant_beta).balance == 10_000
