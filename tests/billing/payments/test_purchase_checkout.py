"""Token packs and accepted quotes paid in Stripe Checkout (payment mode): ordering or accepting sends the browser
straight to the invoice's hosted page (the local Stripe fake); its webhook settles the invoice once, which credits
the tokens once. The return URLs only show a message on the Wallet page or the Services section. Without Stripe,
the order is collected by hand and the pages say how to pay."""

from datetime import timedelta
from decimal import Decimal

import pytest

from accounts.models import Role
from billing.models import Invoice, Payment, Product, ServiceQuote
from billing.quotes.services import service_quote_request, service_quote_send
from config.money import Money
from devtools.stripe_fake import webhook_post
from metering.models import TokenPurchase, WalletEntry
from metering.wallets.services import wallet_ensure
from tests.support.api import api_client, api_key_for
from tests.support.clock import NOW
from tests.support.staff import staff_client

CHECKOUT_SESSIONS = "/v1/checkout/sessions"
PACK_TOKENS = 1_000_000  # the seeded tokens-1m pack: 1,000,000 tokens for 100.00 USD


@pytest.fixture(autouse=True)
def own_series(settings):
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "ZP", "ZQ"


@pytest.fixture
def owner(tenant_alpha):
    return staff_client(tenant_alpha, Role.OWNER)


@pytest.fixture
def deliver(public_client, webhook_endpoint, django_capture_on_commit_callbacks):
    """POST a signed event to the endpoint and run what it leaves for after commit (the payment rail's signals)."""
    def post(event):
        with django_capture_on_commit_callbacks(execute=True):
            response = webhook_post(public_client, webhook_endpoint, event)
        assert response.status_code == 200, response.content
    return post


@pytest.fixture
def quoted(tenant_alpha, frozen_now) -> ServiceQuote:
    quote = service_quote_request(tenant=tenant_alpha, product=Product.objects.get(code="website-audit"),
                                  brief="Audit our checkout", actor="owner@alpha.test", now=NOW)
    return service_quote_send(quote=quote, amount=Money(Decimal("450.00"), "USD"), note="Two weeks.",
                              valid_until=NOW + timedelta(days=30), actor="ops@tollgate.test", now=NOW)


def pack_ordered(owner):
    response = owner.post("/wallet/purchases/", {"pack": "tokens-1m"})
    return response, TokenPurchase.objects.get(status=TokenPurchase.Status.PENDING)


def balance(tenant) -> int:
    return wallet_ensure(tenant=tenant).balance


def purchase_credits(tenant) -> int:
    return WalletEntry.objects.filter(wallet__tenant=tenant, kind=WalletEntry.Kind.PURCHASE).count()


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- Token packs -------------------------------------------------------------------------------------------------

def test_buying_a_pack_sends_the_owner_to_the_checkout_page_for_its_invoice(stripe, owner, tenant_alpha,
                                                                           frozen_now):
    response, purchase = pack_ordered(owner)

    [session] = stripe.of_type("checkout.session")
    invoice = Invoice.objects.get(pk=purchase.invoice_id)
    assert (response.status_code, response["Location"]) == (303, session["url"])
    assert (session["mode"], session["amount_total"], session["currency"]) == ("payment", 10000, "usd")
    # The card is saved for later charges (auto-recharge, renewals) if the tenant has none.
    assert stripe.creates(CHECKOUT_SESSIONS)[0].params["payment_intent_data"]["setup_future_usage"] == "off_session"
    assert session["metadata"]["invoice_id"] == str(invoice.pk)
    assert session["success_url"] == f"http://alpha.localhost/billing/invoices/{invoice.number}/checkout/paid/"
    assert session["cancel_url"] == f"http://alpha.localhost/billing/invoices/{invoice.number}/checkout/canceled/"


def test_a_pack_paid_in_checkout_is_credited_once_however_often_the_webhook_comes(stripe, owner, tenant_alpha,
                                                                                 deliver, frozen_now):
    _, purchase = pack_ordered(owner)
    [session] = stripe.of_type("checkout.session")
    completed = stripe.checkout_complete(session["id"])

    deliver(stripe.event("checkout.session.completed", completed["id"]))
    deliver(stripe.event("checkout.session.completed", completed["id"]))
    deliver(stripe.event("payment_intent.succeeded", completed["payment_intent"]))

    purchase.refresh_from_db()
    invoice = Invoice.objects.get(pk=purchase.invoice_id)
    assert (invoice.status, purchase.status) == (Invoice.Status.PAID, TokenPurchase.Status.PAID)
    assert Payment.objects.filter(invoice=invoice, status=Payment.Status.SUCCEEDED).count() == 1
    assert (balance(tenant_alpha), purchase_credits(tenant_alpha)) == (PACK_TOKENS, 1)


def test_back_from_a_paid_checkout_the_wallet_says_the_tokens_are_being_credited(stripe, owner, frozen_now):
    _, purchase = pack_ordered(owner)
    invoice = Invoice.objects.get(pk=purchase.invoice_id)

    response = owner.get(f"/billing/invoices/{invoice.number}/checkout/paid/", follow=True)

    assert response.redirect_chain == [("/wallet/", 302)]
    assert messages_of(response) == [
        "Payment received: tokens are being credited. The 1,000,000 tokens show in your balance as soon as Stripe "
        "confirms the payment, usually within seconds."]


def test_returning_to_the_success_url_without_paying_credits_nothing(stripe, owner, tenant_alpha, frozen_now):
    _, purchase = pack_ordered(owner)
    invoice = Invoice.objects.get(pk=purchase.invoice_id)

    owner.get(f"/billing/invoices/{invoice.number}/checkout/paid/")
    owner.get(f"/billing/invoices/{invoice.number}/checkout/paid/")

    purchase.refresh_from_db()
    invoice.refresh_from_db()
    assert (invoice.status, purchase.status) == (Invoice.Status.OPEN, TokenPurchase.Status.PENDING)
    assert (balance(tenant_alpha), purchase_credits(tenant_alpha)) == (0, 0)
    assert not Payment.objects.filter(invoice=invoice).exists()


def test_a_cancelled_checkout_leaves_the_order_awaiting_payment_and_payable_by_card(stripe, owner, tenant_alpha,
                                                                                   frozen_now):
    _, purchase = pack_ordered(owner)
    invoice = Invoice.objects.get(pk=purchase.invoice_id)

    response = owner.get(f"/billing/invoices/{invoice.number}/checkout/canceled/", follow=True)

    purchase.refresh_from_db()
    assert purchase.status == TokenPurchase.Status.PENDING
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.OPEN
    assert messages_of(response) == [f"No payment was made: order #{purchase.pk} awaits payment on invoice "
                                     f"{invoice.number}. Pay it by card below, or cancel the order."]
    content = response.content.decode()
    assert f'data-order="{purchase.pk}"' in content
    assert f'action="/billing/invoices/{invoice.number}/pay/"' in content


def test_ordering_the_pack_again_the_same_day_reaches_the_same_checkout_page(stripe, owner, frozen_now):
    first, _ = pack_ordered(owner)
    second, _ = pack_ordered(owner)

    assert first["Location"] == second["Location"]
    assert len(stripe.creates(CHECKOUT_SESSIONS)) == 1


def test_pay_now_on_a_pack_invoice_reaches_the_page_the_order_opened(stripe, owner, frozen_now):
    ordered, purchase = pack_ordered(owner)
    invoice = Invoice.objects.get(pk=purchase.invoice_id)

    paid_from_invoice = owner.post(f"/billing/invoices/{invoice.number}/pay/")

    assert paid_from_invoice["Location"] == ordered["Location"]
    assert len(stripe.creates(CHECKOUT_SESSIONS)) == 1


def test_a_pack_the_account_credit_pays_is_credited_without_checkout(stripe, owner, tenant_alpha, frozen_now):
    from billing.invoicing.credit import account_credit_add

    account_credit_add(tenant=tenant_alpha, amount=Money(Decimal("100.00"), "USD"), kind="adjustment",
                       description="Goodwill", actor="ops@tollgate.test", now=NOW)

    response = owner.post("/wallet/purchases/", {"pack": "tokens-1m"})

    assert (response.status_code, response["Location"]) == (302, "/wallet/")
    assert balance(tenant_alpha) == PACK_TOKENS
    assert not stripe.creates(CHECKOUT_SESSIONS)


def test_when_stripe_cannot_open_the_page_the_order_stays_payable_from_its_invoice(stripe, owner, frozen_now):
    stripe.fail_next(path=CHECKOUT_SESSIONS)

    response, purchase = pack_ordered(owner)

    invoice = Invoice.objects.get(pk=purchase.invoice_id)
    assert (response.status_code, response["Location"]) == (302, f"/billing/invoices/{invoice.number}/")
    assert invoice.status == Invoice.Status.OPEN


def test_without_stripe_a_pack_is_ordered_on_an_invoice_paid_by_transfer_as_the_wallet_says(owner, settings):
    settings.STRIPE_SECRET_KEY = ""

    response = owner.post("/wallet/purchases/", {"pack": "tokens-1m"}, follow=True)

    purchase = TokenPurchase.objects.get(status=TokenPurchase.Status.PENDING)
    invoice = Invoice.objects.get(pk=purchase.invoice_id)
    assert response.redirect_chain == [("/wallet/", 302)]
    assert messages_of(response) == [f"1M tokens ordered on invoice {invoice.number}: the tokens are added as soon "
                                     "as it is paid. How to pay is below."]
    content = response.content.decode()
    assert 'id="wallet-how-to-pay"' in content and "IBAN" in content
    assert "Pay by card" not in content


# --- Quotes ------------------------------------------------------------------------------------------------------

def test_accepting_a_quote_sends_the_owner_to_the_checkout_page_for_its_invoice(stripe, owner, quoted):
    response = owner.post(f"/billing/services/{quoted.pk}/accept/")

    quoted.refresh_from_db()
    [session] = stripe.of_type("checkout.session")
    assert (response.status_code, response["Location"]) == (303, session["url"])
    assert (session["amount_total"], session["metadata"]["invoice_id"]) == (45000, str(quoted.invoice_id))
    assert session["success_url"] == (f"http://alpha.localhost/billing/invoices/{quoted.invoice.number}"
                                      "/checkout/paid/")


def test_a_quote_paid_in_checkout_has_its_invoice_paid_by_the_webhook(stripe, owner, quoted, deliver):
    owner.post(f"/billing/services/{quoted.pk}/accept/")
    [session] = stripe.of_type("checkout.session")

    completed = stripe.checkout_complete(session["id"])
    deliver(stripe.event("checkout.session.completed", completed["id"]))
    invoice = ServiceQuote.objects.get(pk=quoted.pk).invoice
    response = owner.get(f"/billing/invoices/{invoice.number}/checkout/paid/", follow=True)

    assert invoice.status == Invoice.Status.PAID
    assert response.redirect_chain == [("/billing/#billing-services", 302)]
    assert messages_of(response) == [f"Payment received: invoice {invoice.number} is paid."]


def test_without_stripe_an_accepted_quote_says_to_pay_its_invoice_by_transfer(owner, quoted, settings):
    settings.STRIPE_SECRET_KEY = ""

    response = owner.post(f"/billing/services/{quoted.pk}/accept/", follow=True)

    quoted.refresh_from_db()
    assert response.redirect_chain == [("/billing/", 302)]
    assert messages_of(response) == [
        f"Quote accepted: invoice {quoted.invoice.number} is below. Pay it by transfer as the Payment method "
        "section says, quoting the invoice number."]
    assert "IBAN" in response.content.decode()


def test_an_unknown_checkout_result_is_not_found(stripe, owner, frozen_now):
    _, purchase = pack_ordered(owner)
    number = Invoice.objects.get(pk=purchase.invoice_id).number

    assert owner.get(f"/billing/invoices/{number}/checkout/approved/").status_code == 404


# --- The API -----------------------------------------------------------------------------------------------------

def api_order(tenant, *, key: str = "order-1", pack: str = "tokens-1m", scopes=None):
    client = api_client(tenant, api_key_for(tenant, scopes=scopes))
    return client.post("/api/v1/wallet/purchases", {"pack": pack}, content_type="application/json",
                       HTTP_IDEMPOTENCY_KEY=key)


def test_ordering_a_pack_through_the_api_answers_its_invoice_and_checkout_url(stripe, tenant_alpha, frozen_now):
    response = api_order(tenant_alpha)

    assert response.status_code == 201, response.content
    purchase = TokenPurchase.objects.get(tenant=tenant_alpha)
    [session] = stripe.of_type("checkout.session")
    assert response.json() == {
        "id": purchase.pk, "pack": "tokens-1m", "tokens": PACK_TOKENS,
        "price": {"amount": "100.00", "currency": "USD"}, "status": "pending",
        "invoice": Invoice.objects.get(pk=purchase.invoice_id).number,
        "amount_due": {"amount": "100.00", "currency": "USD"}, "checkout_url": session["url"]}


def test_without_stripe_the_api_order_has_no_checkout_url(tenant_alpha, settings):
    settings.STRIPE_SECRET_KEY = ""

    response = api_order(tenant_alpha)

    assert response.status_code == 201, response.content
    assert (response.json()["status"], response.json()["checkout_url"]) == ("pending", None)


def test_a_retried_api_order_answers_the_same_order_and_page(stripe, tenant_alpha, frozen_now):
    first = api_order(tenant_alpha, key="order-1")
    retried = api_order(tenant_alpha, key="order-1")

    assert retried.json() == first.json()
    assert TokenPurchase.objects.filter(tenant=tenant_alpha).count() == 1
    assert len(stripe.creates(CHECKOUT_SESSIONS)) == 1


def test_an_api_order_needs_an_idempotency_key(tenant_alpha):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))

    response = client.post("/api/v1/wallet/purchases", {"pack": "tokens-1m"}, content_type="application/json")

    assert response.status_code == 400
    assert not TokenPurchase.objects.filter(tenant=tenant_alpha).exists()


def test_an_api_order_of_an_unknown_pack_is_refused_on_its_field(tenant_alpha):
    response = api_order(tenant_alpha, pack="tokens-free")

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["details"]["field"]) == ("token_pack_unavailable", "pack")


def test_a_read_only_api_key_cannot_order_a_pack(tenant_alpha):
    response = api_order(tenant_alpha, scopes=["read"])

    assert response.status_code == 403
    assert not TokenPurchase.objects.filter(tenant=tenant_alpha).exists()
