"""Auto-recharge in the API: GET reads it (read scope), PUT turns it on or off (billing scope, manage_billing);
without a saved card it cannot be turned on (409 in the one error shape)."""

import pytest

from billing.models import AutoRecharge
from metering.wallets.services import wallet_credit
from tests.support.api import api_client, api_key_for
from tests.support.payments import card_on_file

pytestmark = pytest.mark.django_db

URL = "/api/v1/wallet/auto-recharge"
BODY = {"enabled": True, "threshold": 100_000, "pack": "tokens-1m"}


def put(client, body: dict):
    return client.put(URL, body, content_type="application/json")


@pytest.fixture
def alpha_api(tenant_alpha):
    return api_client(tenant_alpha, api_key_for(tenant_alpha))


def test_turning_auto_recharge_on_through_the_api_answers_the_setting(stripe, tenant_alpha, alpha_api):
    card_on_file(stripe, tenant_alpha)
    wallet_credit(tenant=tenant_alpha, tokens=150_000, kind="adjustment", reason="Test funds", idempotency_key="funds")

    response = put(alpha_api, BODY)

    assert response.status_code == 200, response.content
    assert response.json() == {"available": True, "enabled": True, "threshold": 100_000, "pack": "tokens-1m",
                               "off_reason": None, "in_flight": None}
    assert alpha_api.get(URL).json()["enabled"] is True


def test_without_a_saved_card_the_api_refuses_to_turn_it_on_with_409(stripe, tenant_alpha, alpha_api):
    response = put(alpha_api, BODY)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "auto_recharge_card_missing"
    assert not AutoRecharge.objects.filter(tenant=tenant_alpha, enabled=True).exists()


def test_an_unknown_pack_is_refused_on_its_field(stripe, tenant_alpha, alpha_api):
    card_on_file(stripe, tenant_alpha)

    response = put(alpha_api, {**BODY, "pack": "tokens-free"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "auto_recharge_invalid"


def test_a_read_only_key_cannot_change_auto_recharge(tenant_alpha):
    reader = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["read"]))

    response = put(reader, {**BODY, "enabled": False})

    assert response.status_code == 403
    assert not AutoRecharge.objects.filter(tenant=tenant_alpha).exists()


def test_turning_it_on_below_the_threshold_answers_the_recharge_it_started(stripe, tenant_alpha, alpha_api):
    card_on_file(stripe, tenant_alpha)

    response = put(alpha_api, BODY)

    in_flight = response.json()["in_flight"]
    assert (in_flight["status"], in_flight["action_url"]) == ("pending", "")
    assert in_flight["invoice"].startswith("TG-")
