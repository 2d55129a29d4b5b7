"""Auto-recharge on the Wallet page: owners and billing members see it and set it up; its form posts to billing,
which answers a refusal with the error next to the field (4xx); without a saved card it cannot be turned on."""

import pytest

from accounts.models import Role
from billing.models import AutoRecharge
from metering.models import Wallet
from tests.support.payments import card_on_file
from tests.support.staff import staff_client

pytestmark = pytest.mark.django_db

FORM = {"enabled": "on", "threshold": "100000", "pack": "tokens-1m"}


def test_the_wallet_page_shows_the_auto_recharge_form_to_owners(stripe, alpha_owner_client):
    response = alpha_owner_client.get("/wallet/")

    assert response.status_code == 200
    assert b'id="auto-recharge-form"' in response.content
    assert b'action="/wallet/auto-recharge/"' in response.content


def test_a_billing_member_turns_auto_recharge_on_with_a_saved_card(stripe, tenant_alpha):
    card_on_file(stripe, tenant_alpha)
    client = staff_client(tenant_alpha, Role.BILLING)

    response = client.post("/wallet/auto-recharge/", FORM, follow=True)

    setting = AutoRecharge.objects.get(tenant=tenant_alpha)
    assert (setting.enabled, setting.threshold, setting.pack.code, setting.changed_by) == (
        True, 100_000, "tokens-1m", "billing@alpha.test")
    assert Wallet.objects.get(tenant=tenant_alpha).recharge_below == 100_000
    assert b"Auto-recharge is on" in response.content


def test_without_a_saved_card_the_form_says_so_and_nothing_is_turned_on(stripe, tenant_alpha, alpha_owner_client):
    response = alpha_owner_client.post("/wallet/auto-recharge/", FORM)

    assert response.status_code == 409
    assert b"Save a card first" in response.content
    assert not AutoRecharge.objects.filter(tenant=tenant_alpha, enabled=True).exists()


def test_without_card_payments_the_wallet_page_says_auto_recharge_is_not_available(alpha_owner_client, settings):
    settings.STRIPE_SECRET_KEY = ""

    response = alpha_owner_client.get("/wallet/")

    assert b'id="auto-recharge-form"' not in response.content
    assert b"card payments are not available here" in response.content


def test_a_threshold_that_is_not_a_positive_number_is_refused_next_to_the_field(stripe, tenant_alpha,
                                                                              alpha_owner_client):
    card_on_file(stripe, tenant_alpha)

    response = alpha_owner_client.post("/wallet/auto-recharge/", {**FORM, "threshold": "0"})

    assert response.status_code == 400
    assert response.context["form"].errors["threshold"]
    assert not AutoRecharge.objects.filter(tenant=tenant_alpha).exists()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MEMBER])
def test_staff_without_billing_rights_cannot_set_up_auto_recharge(stripe, tenant_alpha, role):
    card_on_file(stripe, tenant_alpha)

    response = staff_client(tenant_alpha, role).post("/wallet/auto-recharge/", FORM)

    assert response.status_code == 403
    assert not AutoRecharge.objects.filter(tenant=tenant_alpha).exists()
