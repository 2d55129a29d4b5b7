"""The billing page's card section, Stripe's customer portal through a stable route, renewals charged to a saved
card, and paying an open invoice now on a hosted Checkout page (the local Stripe fake, webhooks through dj-stripe's
real endpoint). Return URLs only say something: the webhooks settle."""

from datetime import timedelta
from decimal import Decimal

import pytest
from djstripe.models import Customer

from accounts.models import Role
from billing.models import DunningCase, Invoice, Payment, Price, Subscription
from billing.payments.services import stripe_customer_ensure
from tests.billing.payments.test_dunning import renewal_issued
from tests.support.billing import invoice_pay, subscription_started
from tests.support.clock import NOW
from tests.support.payments import card_on_file, card_saved, stripe_invoice
from tests.support.staff import staff_client
from devtools.stripe_fake import CARD_DECLINED, webhook_post

CHECKOUT_SESSIONS = "/v1/checkout/sessions"
PORTAL_SESSIONS = "/v1/billing_portal/sessions"
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def own_series(settings):
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "ZS", "ZT"


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
def subscription(tenant_alpha, frozen_now) -> Subscription:
    """Alpha on Pro since yesterday, its start invoice paid by transfer: collected manually, as every start is."""
    started = subscription_started(tenant_alpha, Price.objects.get(code="pro-month-usd"), at=NOW - DAY)
    for invoice in Invoice.objects.filter(subscription=started, status=Invoice.Status.OPEN):
        invoice_pay(invoice, at=NOW - DAY)
    return Subscription.objects.get(pk=started.pk)


def card_section(response) -> str:
    content = response.content.decode()
    start = content.index('id="billing-card"')
    return content[start:content.index("</section>", start)]


# --- The card section --------------------------------------------------------------------------------------------

def test_without_stripe_the_card_section_says_invoices_are_paid_by_transfer_and_how(owner, settings):
    settings.STRIPE_SECRET_KEY = ""

    section = card_section(owner.get("/billing/"))

    assert "collected manually" in section
    assert "IBAN" in section
    assert "Add a card" not in section


def test_with_stripe_and_no_card_the_section_offers_to_add_one(stripe, owner):
    section = card_section(owner.get("/billing/"))

    assert "No card on file" in section
    assert "Add a card" in section
    assert "Manage cards" not in section


def test_a_saved_card_shows_its_brand_last_four_and_expiry(stripe, owner, tenant_alpha, deliver):
    card = card_saved(stripe, tenant_alpha, deliver, last4="5556")

    section = card_section(owner.get("/billing/"))

    assert "Visa ···· 5556" in section
    assert f"Expires {card['card']['exp_month']:02d}/{card['card']['exp_year']}" in section
    assert "Manage cards" in section


def test_add_a_card_sends_the_owner_to_checkout_in_setup_mode_returning_to_the_card_section(stripe, owner,
                                                                                              tenant_alpha):
    response = owner.post("/billing/card/add/")

    [session] = stripe.of_type("checkout.session")
    assert response.status_code == 303
    assert response["Location"] == session["url"]
    assert session["mode"] == "setup"
    assert session["customer"] == stripe_customer_ensure(tenant=tenant_alpha).id
    assert session["success_url"] == "http://alpha.localhost/billing/?card=saved#billing-card"
    assert session["cancel_url"] == "http://alpha.localhost/billing/?card=canceled#billing-card"


def test_coming_back_from_checkout_shows_a_message_but_saves_no_card(stripe, owner, tenant_alpha):
    owner.post("/billing/card/add/")

    response = owner.get("/billing/?card=saved")

    assert b"your card is being saved" in response.content
    assert "No card on file" in card_section(response)
    assert not Customer.objects.get(subscriber=tenant_alpha).default_payment_method_id


# --- Saving a card charges the renewals to it ----------------------------------------------------------------------

def test_saving_a_card_charges_the_subscriptions_next_invoices_to_it(stripe, owner, tenant_alpha, subscription,
                                                                     deliver):
    assert subscription.collection_method == "manual"

    card_saved(stripe, tenant_alpha, deliver)

    subscription.refresh_from_db()
    assert subscription.collection_method == "stripe"
    event = subscription.events.get(action="collection_changed")
    assert (event.actor, event.before["collection_method"], event.after["collection_method"]) == (
        "stripe", "manual", "stripe")
    assert "charged to this card" in card_section(owner.get("/billing/"))


def test_an_invoice_issued_before_the_card_was_saved_keeps_its_manual_collection(stripe, tenant_alpha, subscription,
                                                                                 deliver):
    earlier = renewal_issued(subscription, "10.00")

    card_saved(stripe, tenant_alpha, deliver)

    earlier.refresh_from_db()
    assert earlier.collection_method == "manual"


def test_a_card_saved_before_subscribing_is_used_once_the_owner_asks(stripe, owner, tenant_alpha, deliver,
                                                                     frozen_now):
    card_saved(stripe, tenant_alpha, deliver)
    subscription = subscription_started(tenant_alpha, Price.objects.get(code="pro-month-usd"), at=NOW)
    assert "paid by transfer" in card_section(owner.get("/billing/"))

    response = owner.post("/billing/card/collection/")

    subscription.refresh_from_db()
    assert response.status_code == 302
    assert subscription.collection_method == "stripe"


def test_renewals_cannot_be_switched_to_card_collection_without_a_card(stripe, owner, subscription):
    owner.post("/billing/card/collection/")

    subscription.refresh_from_db()
    assert subscription.collection_method == "manual"


# --- Manage cards: Stripe's portal through a stable route ---------------------------------------------------------

def test_manage_cards_opens_a_fresh_portal_session_each_time_it_is_followed(stripe, owner, tenant_alpha, deliver):
    card_saved(stripe, tenant_alpha, deliver)

    first, second = owner.get("/billing/card/portal/"), owner.post("/billing/card/portal/")

    portals = stripe.of_type("billing_portal.session")
    assert (first.status_code, second.status_code) == (303, 303)
    assert len(portals) == 2
    assert {first["Location"], second["Location"]} == {portal["url"] for portal in portals}
    assert {portal["return_url"] for portal in portals} == {"http://alpha.localhost/billing/#billing-card"}


def test_following_the_portal_link_without_a_stripe_customer_creates_none(stripe, owner, tenant_alpha):
    response = owner.get("/billing/card/portal/")

    assert (response.status_code, response["Location"]) == (302, "/billing/#billing-card")
    assert not Customer.objects.filter(subscriber=tenant_alpha).exists()
    assert not stripe.creates("/v1/customers") and not stripe.creates(PORTAL_SESSIONS)


def test_the_portal_link_sends_a_signed_out_visitor_to_log_in_first(stripe, alpha_client):
    response = alpha_client.get("/billing/card/portal/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert not stripe.creates(PORTAL_SESSIONS)


# --- Pay now -------------------------------------------------------------------------------------------------------

def test_pay_now_sends_the_owner_to_a_checkout_page_for_the_amount_due(stripe, owner, tenant_alpha, frozen_now):
    invoice = stripe_invoice(tenant_alpha, "42.50", collection_method="manual")

    response = owner.post(f"/billing/invoices/{invoice.number}/pay/")

    [session] = stripe.of_type("checkout.session")
    assert response.status_code == 303
    assert response["Location"] == session["url"]
    assert (session["mode"], session["amount_total"], session["currency"]) == ("payment", 4250, "usd")
    assert session["metadata"]["invoice_id"] == str(invoice.pk)
    assert session["success_url"] == f"http://alpha.localhost/billing/invoices/{invoice.number}/?paid=1"


def test_pay_now_clicked_twice_the_same_day_reaches_one_checkout_page(stripe, owner, tenant_alpha, frozen_now):
    invoice = stripe_invoice(tenant_alpha, "42.50")

    first = owner.post(f"/billing/invoices/{invoice.number}/pay/")
    second = owner.post(f"/billing/invoices/{invoice.number}/pay/")

    assert first["Location"] == second["Location"]
    assert len(stripe.creates(CHECKOUT_SESSIONS)) == 1


def test_returning_from_the_checkout_page_marks_nothing_paid(stripe, owner, tenant_alpha, frozen_now):
    invoice = stripe_invoice(tenant_alpha, "42.50")
    owner.post(f"/billing/invoices/{invoice.number}/pay/")

    response = owner.get(f"/billing/invoices/{invoice.number}/?paid=1")

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN
    assert b"your payment is being confirmed" in response.content
    assert not Payment.objects.filter(invoice=invoice).exists()


def test_an_invoice_paid_on_the_checkout_page_is_settled_by_the_webhook(stripe, owner, tenant_alpha, deliver,
                                                                        frozen_now):
    invoice = stripe_invoice(tenant_alpha, "42.50", collection_method="manual")
    owner.post(f"/billing/invoices/{invoice.number}/pay/")
    [session] = stripe.of_type("checkout.session")

    completed = stripe.checkout_complete(session["id"])
    deliver(stripe.event("checkout.session.completed", completed["id"]))

    invoice.refresh_from_db()
    [payment] = Payment.objects.filter(invoice=invoice)
    assert invoice.status == Invoice.Status.PAID
    assert (payment.source, payment.status, payment.amount) == ("checkout", "succeeded", Decimal("42.50"))


def test_an_open_invoice_offers_pay_now_with_stripe_and_not_without(stripe, owner, tenant_alpha, settings):
    invoice = stripe_invoice(tenant_alpha, "42.50")
    with_stripe = owner.get(f"/billing/invoices/{invoice.number}/")
    settings.STRIPE_SECRET_KEY = ""

    without_stripe = owner.get(f"/billing/invoices/{invoice.number}/")
    refused = owner.post(f"/billing/invoices/{invoice.number}/pay/")

    assert b"Pay now" in with_stripe.content
    assert b"Pay now" not in without_stripe.content
    assert refused["Location"] == f"/billing/invoices/{invoice.number}/"
    assert not stripe.creates(CHECKOUT_SESSIONS)


def test_a_paid_invoice_cannot_be_paid_again(stripe, owner, tenant_alpha, frozen_now):
    invoice = invoice_pay(stripe_invoice(tenant_alpha, "42.50"))

    response = owner.post(f"/billing/invoices/{invoice.number}/pay/", follow=True)

    assert b"nothing to pay" in response.content
    assert b"Pay now" not in response.content
    assert not stripe.creates(CHECKOUT_SESSIONS)


def test_pay_now_is_refused_while_a_payment_of_the_invoice_is_processing(stripe, owner, tenant_alpha, frozen_now):
    invoice = stripe_invoice(tenant_alpha, "42.50")
    # A bank debit, say, that Stripe is still clearing.
    Payment.objects.create(tenant=tenant_alpha, invoice=invoice, attempt=1, payment_intent_id="pi_clearing",
                           amount=Decimal("42.50"), currency="USD", status=Payment.Status.PROCESSING, created_at=NOW)

    response = owner.post(f"/billing/invoices/{invoice.number}/pay/", follow=True)

    assert b"being processed" in response.content
    assert not stripe.creates(CHECKOUT_SESSIONS)


def test_a_card_refused_on_the_pay_now_page_does_not_use_up_a_dunning_retry(stripe, owner, tenant_alpha,
                                                                            subscription, deliver,
                                                                            django_capture_on_commit_callbacks):
    Subscription.objects.filter(pk=subscription.pk).update(collection_method="stripe")
    subscription.refresh_from_db()
    card_on_file(stripe, tenant_alpha, CARD_DECLINED)
    with django_capture_on_commit_callbacks(execute=True):
        declined = renewal_issued(subscription)
    case = DunningCase.objects.get(invoice=declined)
    owner.post(f"/billing/invoices/{declined.number}/pay/")
    [session] = stripe.of_type("checkout.session")

    completed = stripe.checkout_complete(session["id"], last4=CARD_DECLINED)
    deliver(stripe.event("payment_intent.payment_failed", completed["payment_intent"]))

    after = DunningCase.objects.get(pk=case.pk)
    assert Payment.objects.get(payment_intent_id=completed["payment_intent"]).status == Payment.Status.FAILED
    assert (after.status, after.last_attempt, after.retries_made, after.next_attempt_at) == (
        case.status, case.last_attempt, case.retries_made, case.next_attempt_at)
