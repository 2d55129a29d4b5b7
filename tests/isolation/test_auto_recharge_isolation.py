"""Auto-recharge: tenant A's staff never see or change tenant B's setting or recharges, on the Wallet page or on
the auto-recharge page, and a session of A's cannot post B's form on B's host."""

import pytest
from django.utils import timezone

from billing.models import AutoRecharge, AutoRechargeOrder
from billing.token_packs import token_pack_purchase
from metering.models import TokenPack
from tests.support.api import api_client, api_key_for
from tests.support.tenants import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def beta_recharging(tenant_beta) -> AutoRechargeOrder:
    """Beta with auto-recharge on below 777,777 tokens and a recharge in flight."""
    pack = TokenPack.objects.get(code="tokens-1m")
    now = timezone.now()
    AutoRecharge.objects.create(tenant=tenant_beta, enabled=True, threshold=777_777, pack=pack, changed_at=now)
    order = token_pack_purchase(tenant=tenant_beta, pack=pack, actor="auto-recharge", now=now,
                                collection_method="stripe")
    return AutoRechargeOrder.objects.create(tenant=tenant_beta, purchase=order.purchase, invoice=order.invoice,
                                            balance_at_start=0, threshold=777_777, created_at=now)


@pytest.mark.parametrize("path", ["/wallet/", "/wallet/auto-recharge/"])
def test_alpha_does_not_see_betas_auto_recharge(alpha_owner_client, beta_recharging, path):
    response = alpha_owner_client.get(path)

    assert response.status_code == 200
    assert b"777,777" not in response.content and b"777777" not in response.content
    assert beta_recharging.invoice.number.encode() not in response.content
    assert b"Recharge in progress" not in response.content


def test_alpha_turning_auto_recharge_off_leaves_betas_on(alpha_owner_client, tenant_alpha, beta_recharging):
    response = alpha_owner_client.post("/wallet/auto-recharge/", {"threshold": "5", "pack": "tokens-1m"})

    assert response.status_code == 302
    assert AutoRecharge.objects.get(tenant=tenant_alpha).enabled is False
    assert AutoRecharge.objects.get(tenant=beta_recharging.tenant).enabled is True


def test_an_alpha_session_on_betas_host_cannot_set_betas_auto_recharge(alpha_owner_client, tenant_beta,
                                                                        beta_recharging):
    on_beta = client_for(tenant_beta)
    on_beta.cookies = alpha_owner_client.cookies

    response = on_beta.post("/wallet/auto-recharge/", {"threshold": "5", "pack": "tokens-1m"})

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert AutoRecharge.objects.get(tenant=tenant_beta).threshold == 777_777


def test_alphas_key_reads_alphas_auto_recharge_only(tenant_alpha, beta_recharging):
    response = api_client(tenant_alpha, api_key_for(tenant_alpha)).get("/api/v1/wallet/auto-recharge")

    assert response.status_code == 200
    assert response.json()["threshold"] is None and response.json()["in_flight"] is None


def test_a_key_of_beta_is_refused_on_alphas_auto_recharge(tenant_alpha, tenant_beta, beta_recharging):
    on_alpha = api_client(tenant_alpha, api_key_for(tenant_beta))

    response = on_alpha.put("/api/v1/wallet/auto-recharge", {"enabled": False, "threshold": 5, "pack": "tokens-1m"},
                            content_type="application/json")

    assert response.status_code == 401
    assert not AutoRecharge.objects.filter(tenant=tenant_alpha).exists()
    assert AutoRecharge.objects.get(tenant=tenant_beta).enabled is True
