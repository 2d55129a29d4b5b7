import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import Role
from billing.invoicing.services import invoice_mark_paid
from billing.models import Invoice
from metering.models import TokenPack, TokenPurchase, Wallet
from metering.wallets.services import token_purchase_create, wallet_credit, wallet_debit
from tests.support.staff import staff_client

pytestmark = pytest.mark.django_db

BILLING_ROLES = [Role.OWNER, Role.BILLING]
OTHER_ROLES = [Role.ADMIN, Role.MEMBER]


def purchase_credit(tenant, tokens: int, key: str = "bought"):
    return wallet_credit(tenant=tenant, tokens=tokens, kind="purchase", reason="Purchase #1: 1M tokens",
                         idempotency_key=key)


def shown_balance(response) -> str:
    return re.search(rb'id="wallet-balance">([^<]*)<', response.content).group(1).decode()


def ledger_rows(response) -> int:
    return response.content.count(b"<tr data-entry=")


# --- Who may see it -------------------------------------------------------------------------------

@pytest.mark.parametrize("role", BILLING_ROLES)
def test_owners_and_billing_see_the_wallet_page(tenant_alpha, role):
    response = staff_client(tenant_alpha, role).get("/wallet/")

    assert response.status_code == 200
    assert b"<h1>Wallet</h1>" in response.content
    assert b'aria-current="page">Wallet<' in response.content


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_other_roles_are_refused_the_wallet_page(tenant_alpha, role):
    assert staff_client(tenant_alpha, role).get("/wallet/").status_code == 403


@pytest.mark.parametrize("path", ["/wallet/threshold/", "/wallet/purchases/", "/wallet/purchases/1/cancel/"])
@pytest.mark.parametrize("role", OTHER_ROLES)
def test_other_roles_cannot_post_to_the_wallet(tenant_alpha, role, path):
    response = staff_client(tenant_alpha, role).post(path, {"low_balance_threshold": "5", "pack": "tokens-1m"})

    assert response.status_code == 403
    assert not Wallet.objects.filter(tenant=tenant_alpha).exists()
    assert not TokenPurchase.objects.exists()


def test_anonymous_visitors_are_sent_to_login(alpha_client):
    response = alpha_client.get("/wallet/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- What it shows --------------------------------------------------------------------------------

def test_the_page_shows_the_balance_and_this_months_usage(tenant_alpha, alpha_owner_client):
    purchase_credit(tenant_alpha, 1_000_000)
    wallet_debit(tenant=tenant_alpha, tokens=12_345, feature="coach", reason="chat", idempotency_key="c1")

    response = alpha_owner_client.get("/wallet/")

    assert shown_balance(response) == "987,655"
    assert b'id="wallet-usage-total">12,345<' in response.content
    assert b"Coach: <strong>12,345</strong>" in response.content


def test_a_tenant_without_a_wallet_sees_zero_and_an_empty_ledger(alpha_owner_client):
    response = alpha_owner_client.get("/wallet/")

    assert shown_balance(response) == "0"
    assert b"No tokens yet" in response.content


def test_the_ledger_shows_the_latest_fifty_entries_newest_first(tenant_alpha, alpha_owner_client):
    purchase_credit(tenant_alpha, 1_000)
    for n in range(55):
        wallet_debit(tenant=tenant_alpha, tokens=1, feature="ai_api", reason=f"call {n}", idempotency_key=f"k{n}")

    response = alpha_owner_client.get("/wallet/")

    assert ledger_rows(response) == 50
    html = response.content.decode()
    assert html.index("call 54") < html.index("call 53")
    assert "call 4<" not in html and "Purchase #1" not in html


def test_the_page_offers_the_active_packs_only(alpha_owner_client):
    TokenPack.objects.filter(code="tokens-100k").update(active=False)

    response = alpha_owner_client.get("/wallet/")

    assert b'value="tokens-1m"' in response.content and b'value="tokens-100k"' not in response.content
    assert b"1,000,000 tokens for 100.00 USD" in response.content


# --- The threshold --------------------------------------------------------------------------------

def test_the_owner_sets_the_low_balance_threshold(tenant_alpha, alpha_owner_client):
    response = alpha_owner_client.post("/wallet/threshold/", {"low_balance_threshold": "25000"}, follow=True)

    assert Wallet.objects.get(tenant=tenant_alpha).low_balance_threshold == 25_000
    assert b"falls to 25,000 tokens or below" in response.content
    assert b'value="25000"' in response.content


def test_an_empty_threshold_turns_the_email_off(tenant_alpha, alpha_owner_client):
    alpha_owner_client.post("/wallet/threshold/", {"low_balance_threshold": "100"})

    alpha_owner_client.post("/wallet/threshold/", {"low_balance_threshold": ""})

    assert Wallet.objects.get(tenant=tenant_alpha).low_balance_threshold is None


@pytest.mark.parametrize("value", ["-1", "lots", "1.5"])
def test_an_invalid_threshold_is_shown_on_its_field(tenant_alpha, alpha_owner_client, value):
    response = alpha_owner_client.post("/wallet/threshold/", {"low_balance_threshold": value})

    assert response.status_code == 400
    assert b"field-has-error" in response.content
    assert not Wallet.objects.filter(tenant=tenant_alpha).exists()


# --- Buying tokens (billing takes the orders: an order is sold on an invoice) --------------------------------

def order(client, pack: str = "tokens-1m"):
    return client.post("/wallet/purchases/", {"pack": pack}, follow=True)


@pytest.mark.parametrize("role", BILLING_ROLES)
def test_ordering_a_pack_issues_its_invoice_and_awaits_its_payment(tenant_alpha, role):
    response = order(staff_client(tenant_alpha, role))

    purchase = TokenPurchase.objects.get(tenant=tenant_alpha)
    assert (purchase.status, purchase.tokens, purchase.created_by) == (
        "pending", 1_000_000, "owner@alpha.test" if role == Role.OWNER else "billing@alpha.test")
    assert (purchase.invoice.status, purchase.invoice.total) == ("open", Decimal("100.00"))
    assert f"ordered on invoice {purchase.invoice.number}".encode() in response.content
    assert b"Awaiting payment</span>" in response.content
    assert shown_balance(response) == "0"


def test_an_order_awaiting_payment_links_its_invoice_and_says_how_to_pay(tenant_alpha, alpha_owner_client):
    order(alpha_owner_client)
    number = TokenPurchase.objects.get(tenant=tenant_alpha).invoice.number

    response = alpha_owner_client.get("/wallet/")

    assert f'href="/billing/invoices/{number}/">{number}</a>'.encode() in response.content
    assert f'href="/billing/invoices/{number}.pdf"'.encode() in response.content
    assert b'id="wallet-how-to-pay"' in response.content
    assert settings.BILLING_ISSUER["payment_instructions"].splitlines()[0].encode() in response.content


def test_ordering_the_same_pack_twice_makes_one_order_on_one_invoice(tenant_alpha, alpha_owner_client):
    order(alpha_owner_client)
    order(alpha_owner_client)

    assert TokenPurchase.objects.filter(tenant=tenant_alpha).count() == 1
    assert Invoice.objects.filter(tenant=tenant_alpha).count() == 1


@pytest.mark.parametrize("pack", ["", "tokens-5m"])
def test_ordering_needs_an_offered_pack(tenant_alpha, alpha_owner_client, pack):
    response = order(alpha_owner_client, pack)

    assert b"Nothing was ordered" in response.content
    assert not TokenPurchase.objects.exists() and not Invoice.objects.filter(tenant=tenant_alpha).exists()


def test_the_owner_cancels_an_order_and_its_invoice_is_voided(tenant_alpha, alpha_owner_client):
    order(alpha_owner_client)
    purchase = TokenPurchase.objects.get(tenant=tenant_alpha)

    response = alpha_owner_client.post(f"/wallet/purchases/{purchase.pk}/cancel/", follow=True)

    purchase.refresh_from_db()
    assert (purchase.status, purchase.invoice.status) == ("cancelled", "void")
    assert b"was cancelled and its invoice voided" in response.content
    assert b"Awaiting payment</span>" not in response.content


def test_the_owner_cancels_an_order_placed_before_orders_were_invoiced(tenant_alpha, alpha_owner_client):
    purchase = token_purchase_create(tenant=tenant_alpha, pack=TokenPack.objects.get(code="tokens-1m"),
                                     created_by="owner@alpha.test")

    response = alpha_owner_client.post(f"/wallet/purchases/{purchase.pk}/cancel/", follow=True)

    assert TokenPurchase.objects.get(pk=purchase.pk).status == "cancelled"
    assert b"was cancelled." in response.content and b"Awaiting payment</span>" not in response.content


def test_a_paid_order_cannot_be_cancelled(tenant_alpha, alpha_owner_client):
    order(alpha_owner_client)
    purchase = TokenPurchase.objects.get(tenant=tenant_alpha)
    invoice_mark_paid(invoice=purchase.invoice, actor="ops@tollgate.test", now=timezone.now())

    response = alpha_owner_client.post(f"/wallet/purchases/{purchase.pk}/cancel/", follow=True)

    purchase.refresh_from_db()
    assert (purchase.status, purchase.invoice.status) == ("paid", "paid")
    assert b"not pending" in response.content


def test_cancelling_an_unknown_order_is_not_found(alpha_owner_client):
    assert alpha_owner_client.post("/wallet/purchases/999999/cancel/").status_code == 404


def test_the_wallet_page_only_takes_get(alpha_owner_client):
    assert alpha_owner_client.post("/wallet/").status_code == 405


def test_the_wallet_page_shows_the_tokens_owed(tenant_alpha):
    from metering.wallets.services import wallet_debit_or_owe

    purchase_credit(tenant_alpha, 100)
    wallet_debit_or_owe(tenant=tenant_alpha, tokens=1_350, feature="ai_api", reason="over", idempotency_key="over")

    response = staff_client(tenant_alpha, Role.OWNER).get("/wallet/")

    assert re.search(rb'id="wallet-owed"><strong>1,250 tokens owed</strong>', response.content)


def test_the_wallet_page_shows_no_debt_when_nothing_is_owed(tenant_alpha):
    purchase_credit(tenant_alpha, 100)

    assert b'id="wallet-owed"' not in staff_client(tenant_alpha, Role.OWNER).get("/wallet/").content
