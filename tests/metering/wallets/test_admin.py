import re

import pytest
from django.utils import timezone

from accounts.models import User
from billing.token_packs import token_pack_purchase
from metering.models import TokenPack, TokenPurchase, Wallet, WalletEntry
from metering.wallets.services import token_purchase_create, wallet_credit, wallet_debit

pytestmark = pytest.mark.django_db

WALLETS = "/admin/metering/wallet/"
ENTRIES = "/admin/metering/walletentry/"
PACKS = "/admin/metering/tokenpack/"
PURCHASES = "/admin/metering/tokenpurchase/"
OPERATOR = "operator@tollgate.test"


@pytest.fixture
def admin_client(public_client, db):
    public_client.force_login(User.objects.create_superuser(OPERATOR, "pw-operator-123"))
    return public_client


@pytest.fixture
def alpha_wallet(tenant_alpha) -> Wallet:
    wallet_credit(tenant=tenant_alpha, tokens=1_000, kind="purchase", reason="Seed purchase", idempotency_key="seed")
    return Wallet.objects.get(tenant=tenant_alpha)


def adjust(client, wallet: Wallet, *, tokens, reason="Goodwill for the outage", key="form-1"):
    return client.post(f"{WALLETS}{wallet.pk}/adjust/", {"tokens": tokens, "reason": reason, "key": key})


def pending_purchase(tenant, code="tokens-1m") -> TokenPurchase:
    return token_purchase_create(tenant=tenant, pack=TokenPack.objects.get(code=code), created_by="owner@alpha.test")


def run_action(client, action: str, purchases: list[TokenPurchase]):
    return client.post(PURCHASES, {"action": action, "_selected_action": [p.pk for p in purchases]}, follow=True)


# --- Wallets ---------------------------------------------------------------------------------------

def test_ops_see_the_tokens_a_wallet_owes_and_can_list_the_wallets_that_owe(admin_client, tenant_alpha,
                                                                            tenant_beta):
    from metering.wallets.services import wallet_debit_or_owe

    wallet_debit_or_owe(tenant=tenant_alpha, tokens=4_321, feature="ai_api", reason="over", idempotency_key="over")
    wallet_credit(tenant=tenant_beta, tokens=5, kind="purchase", reason="Beta purchase", idempotency_key="b")

    owing = admin_client.get(f"{WALLETS}?owes=yes")
    change = admin_client.get(f"{WALLETS}{Wallet.objects.get(tenant=tenant_alpha).pk}/change/")

    assert b"Alpha Co" in owing.content and b"4,321" in owing.content
    assert b"Beta Inc" not in owing.content
    assert b"4,321" in change.content


def test_the_wallet_list_shows_each_tenants_balance(admin_client, alpha_wallet):
    response = admin_client.get(WALLETS)

    assert response.status_code == 200
    assert b"Alpha Co" in response.content and b"1,000" in response.content


def test_wallets_are_searchable_by_tenant(admin_client, alpha_wallet, tenant_beta):
    wallet_credit(tenant=tenant_beta, tokens=5, kind="purchase", reason="x", idempotency_key="b")

    response = admin_client.get(WALLETS, {"q": "beta"})

    assert b"Beta Inc" in response.content and b"Alpha Co" not in response.content


def test_the_wallet_page_shows_the_ledger_read_only(admin_client, alpha_wallet):
    response = admin_client.get(f"{WALLETS}{alpha_wallet.pk}/change/")

    assert response.status_code == 200
    assert b"Seed purchase" in response.content
    assert b'name="balance"' not in response.content and b'name="entries-0-tokens"' not in response.content
    assert f"{WALLETS}{alpha_wallet.pk}/adjust/".encode() in response.content


def test_the_wallet_page_lists_only_the_latest_fifty_entries(admin_client, alpha_wallet, tenant_alpha):
    for n in range(60):
        wallet_debit(tenant=tenant_alpha, tokens=1, feature="ai_api", reason=f"call {n}", idempotency_key=f"k{n}")

    response = admin_client.get(f"{WALLETS}{alpha_wallet.pk}/change/")

    assert b"call 59" in response.content and b"call 10<" in response.content
    assert b"call 9<" not in response.content and b"Seed purchase" not in response.content


def test_posting_the_wallet_form_changes_no_balance(admin_client, alpha_wallet):
    admin_client.post(f"{WALLETS}{alpha_wallet.pk}/change/", {"balance": "999999", "entries-TOTAL_FORMS": "0",
                                                              "entries-INITIAL_FORMS": "0"})

    assert Wallet.objects.get(pk=alpha_wallet.pk).balance == 1_000


def test_wallets_cannot_be_deleted(admin_client, alpha_wallet):
    assert admin_client.post(f"{WALLETS}{alpha_wallet.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Wallet.objects.filter(pk=alpha_wallet.pk).exists()


def test_ops_open_an_empty_wallet_for_a_tenant(admin_client, tenant_beta):
    response = admin_client.post(f"{WALLETS}add/", {"tenant": tenant_beta.pk})

    assert response.status_code == 302
    assert Wallet.objects.get(tenant=tenant_beta).balance == 0


# --- Adjusting a balance ---------------------------------------------------------------------------

def test_an_adjustment_writes_a_ledger_entry_with_its_reason_and_author(admin_client, alpha_wallet):
    response = adjust(admin_client, alpha_wallet, tokens=250)

    assert response.status_code == 302
    entry = WalletEntry.objects.get(kind="adjustment")
    assert (entry.tokens, entry.balance_after, entry.reason, entry.created_by) == (
        250, 1_250, "Goodwill for the outage", OPERATOR)
    assert Wallet.objects.get(pk=alpha_wallet.pk).balance == 1_250


def test_a_negative_adjustment_takes_tokens_away(admin_client, alpha_wallet):
    adjust(admin_client, alpha_wallet, tokens=-400, reason="Duplicate credit")

    assert Wallet.objects.get(pk=alpha_wallet.pk).balance == 600


def test_an_adjustment_below_zero_is_refused_on_the_tokens_field(admin_client, alpha_wallet):
    response = adjust(admin_client, alpha_wallet, tokens=-1_001)

    assert response.status_code == 400
    assert b"below zero" in response.content
    assert Wallet.objects.get(pk=alpha_wallet.pk).balance == 1_000


@pytest.mark.parametrize(("tokens", "reason"), [(100, ""), (0, "Nothing"), ("many", "Typo")])
def test_an_adjustment_needs_a_reason_and_a_non_zero_number(admin_client, alpha_wallet, tokens, reason):
    response = adjust(admin_client, alpha_wallet, tokens=tokens, reason=reason)

    assert response.status_code == 400
    assert not WalletEntry.objects.filter(kind="adjustment").exists()


def test_submitting_the_same_adjustment_form_twice_adjusts_once(admin_client, alpha_wallet):
    adjust(admin_client, alpha_wallet, tokens=250, key="form-7")
    adjust(admin_client, alpha_wallet, tokens=250, key="form-7")

    assert Wallet.objects.get(pk=alpha_wallet.pk).balance == 1_250


def test_the_adjust_action_opens_the_form_for_one_wallet(admin_client, alpha_wallet):
    response = admin_client.post(WALLETS, {"action": "adjust_balance", "_selected_action": [alpha_wallet.pk]})

    assert response.status_code == 302 and response["Location"] == f"{WALLETS}{alpha_wallet.pk}/adjust/"


def test_the_adjust_form_shows_the_balance(admin_client, alpha_wallet):
    response = admin_client.get(f"{WALLETS}{alpha_wallet.pk}/adjust/")

    assert response.status_code == 200
    assert re.search(rb'id="wallet-balance">1,000<', response.content)


def test_the_adjust_form_of_an_unknown_wallet_is_not_found(admin_client):
    assert admin_client.get(f"{WALLETS}999999/adjust/").status_code == 404


# --- The ledger ------------------------------------------------------------------------------------

def test_the_full_ledger_filters_by_wallet_and_cannot_be_edited(admin_client, alpha_wallet, tenant_beta):
    wallet_credit(tenant=tenant_beta, tokens=5, kind="purchase", reason="Beta purchase", idempotency_key="b")

    response = admin_client.get(ENTRIES, {"wallet__id__exact": alpha_wallet.pk})

    assert b"Seed purchase" in response.content and b"Beta purchase" not in response.content
    entry = WalletEntry.objects.get(idempotency_key="seed")
    assert admin_client.post(f"{ENTRIES}{entry.pk}/change/", {"tokens": "5"}).status_code == 403
    assert admin_client.post(f"{ENTRIES}{entry.pk}/delete/", {"post": "yes"}).status_code == 403


# --- Packs -----------------------------------------------------------------------------------------

def test_the_pack_list_shows_the_price_per_thousand_tokens(admin_client):
    response = admin_client.get(PACKS)

    assert b"tokens-1m" in response.content and b"0.1000 USD" in response.content


def test_ops_add_a_pack(admin_client):
    response = admin_client.post(f"{PACKS}add/", {"code": "tokens-10m", "name": "10M tokens", "tokens": "10000000",
                                                  "price": "900.00", "currency": "USD", "active": "on"})

    assert response.status_code == 302
    assert TokenPack.objects.get(code="tokens-10m").tokens == 10_000_000


def test_a_pack_with_a_lowercase_currency_is_refused(admin_client):
    response = admin_client.post(f"{PACKS}add/", {"code": "eur", "name": "EUR pack", "tokens": "100",
                                                  "price": "1.00", "currency": "eur", "active": "on"})

    assert response.status_code == 200
    assert not TokenPack.objects.filter(code="eur").exists()


# --- Purchases -------------------------------------------------------------------------------------

def test_marking_a_purchase_paid_credits_the_tenant(admin_client, tenant_alpha):
    purchase = pending_purchase(tenant_alpha)

    response = run_action(admin_client, "mark_paid", [purchase])

    assert b"Marked paid and credited: 1 purchase(s)." in response.content
    assert TokenPurchase.objects.get(pk=purchase.pk).status == "paid"
    assert Wallet.objects.get(tenant=tenant_alpha).balance == 1_000_000


def test_marking_a_purchase_paid_twice_credits_once(admin_client, tenant_alpha):
    purchase = pending_purchase(tenant_alpha)
    run_action(admin_client, "mark_paid", [purchase])

    response = run_action(admin_client, "mark_paid", [purchase])

    assert b"is paid, not pending" in response.content
    assert Wallet.objects.get(tenant=tenant_alpha).balance == 1_000_000
    assert WalletEntry.objects.filter(kind="purchase").count() == 1


def test_an_invoiced_purchase_cannot_be_marked_paid_behind_its_invoice(admin_client, tenant_alpha):
    order = token_pack_purchase(tenant=tenant_alpha, pack=TokenPack.objects.get(code="tokens-1m"),
                                actor="owner@alpha.test", now=timezone.now())

    response = run_action(admin_client, "mark_paid", [order.purchase])

    assert f"is sold on invoice {order.invoice.number}".encode() in response.content
    assert b"Mark the invoice paid instead" in response.content
    assert TokenPurchase.objects.get(pk=order.purchase.pk).status == "pending"
    assert not Wallet.objects.filter(tenant=tenant_alpha, balance__gt=0).exists()


def test_an_invoiced_purchase_shows_its_invoice(admin_client, tenant_alpha):
    order = token_pack_purchase(tenant=tenant_alpha, pack=TokenPack.objects.get(code="tokens-1m"),
                                actor="owner@alpha.test", now=timezone.now())

    response = admin_client.get(PURCHASES)

    assert f'href="/admin/billing/invoice/{order.invoice.pk}/change/">{order.invoice.number}<'.encode() in (
        response.content)


def test_cancelling_a_purchase_credits_nothing(admin_client, tenant_alpha):
    purchase = pending_purchase(tenant_alpha)

    run_action(admin_client, "cancel", [purchase])

    assert TokenPurchase.objects.get(pk=purchase.pk).status == "cancelled"
    assert not Wallet.objects.filter(tenant=tenant_alpha).exists()


def test_purchases_filter_by_status(admin_client, tenant_alpha):
    paid = pending_purchase(tenant_alpha, "tokens-1m")
    run_action(admin_client, "mark_paid", [paid])
    pending = pending_purchase(tenant_alpha, "tokens-100k")

    response = admin_client.get(PURCHASES, {"status__exact": "pending"})

    assert f"{PURCHASES}{pending.pk}/change/".encode() in response.content
    assert f"{PURCHASES}{paid.pk}/change/".encode() not in response.content


def test_purchases_cannot_be_added_or_deleted_in_the_admin(admin_client, tenant_alpha):
    purchase = pending_purchase(tenant_alpha)

    assert admin_client.get(f"{PURCHASES}add/").status_code == 403
    assert admin_client.post(f"{PURCHASES}{purchase.pk}/delete/", {"post": "yes"}).status_code == 403
