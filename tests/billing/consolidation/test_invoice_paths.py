"""Every path that issues an invoice, for a client billed through a payer (reseller mode): the invoice is finalised
as consolidated (numbered in the invoice series, no due date), never charged (no PaymentIntent in the Stripe fake,
though the client has a card and card collection), never emailed, never makes the subscription past due, and is
announced by invoice_consolidated alone. A token pack is refused (the client pays its reseller, never Tollgate)."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings

from billing.auto_recharge.services import auto_recharge_save
from billing.consolidation.errors import BilledThroughPayer
from billing.consolidation.services import consolidated_billing_end
from billing.invoicing.events import invoice_consolidated, invoice_finalized
from billing.invoicing.run import billing_run
from billing.models import AutoRecharge, Invoice, Product, Subscription
from billing.quotes.services import service_quote_accept, service_quote_request, service_quote_send
from billing.subscriptions.services import subscription_change, subscription_collection_method_set
from billing.token_packs import token_pack_purchase
from config.money import Money
from metering.models import TokenPack, TokenPurchase, WalletEntry
from metering.wallets.services import wallet_credit, wallet_debit
from tests.support.api import api_client, api_key_for
from tests.support.billing import ACTOR, invoices_of, subscription_started
from tests.support.consolidation import billed_through, charged, emailed_about
from tests.support.factories import PriceFactory
from tests.support.payments import card_on_file, stripe_invoice

STARTED = datetime(2026, 10, 20, 12, tzinfo=UTC)
PERIOD_END = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture
def client_by_card(stripe, tenant_alpha, tenant_beta, committed):
    """Alpha subscribed on 20 Oct, billed through beta from before, with a card on file and card collection."""
    billed_through(tenant_alpha, tenant_beta, at=STARTED - timedelta(days=1))
    subscription = committed(subscription_started, tenant_alpha, PriceFactory(), at=STARTED)
    card_on_file(stripe, tenant_alpha)
    subscription_collection_method_set(subscription=subscription, collection_method="stripe", actor=ACTOR,
                                       now=STARTED)
    return subscription


def assert_consolidated(invoice: Invoice, stripe) -> None:
    invoice.refresh_from_db()
    assert (invoice.collection_method, invoice.status, invoice.due_at) == ("consolidated", "open", None)
    assert re.fullmatch(r"ZC-2026-\d{6}", invoice.number)
    assert not charged(stripe, invoice)
    assert not emailed_about(invoice)


def test_a_consolidated_clients_start_invoice_is_consolidated_not_emailed(stripe, client_by_card):
    [start] = invoices_of(client_by_card.tenant)

    assert start.billing_reason == Invoice.Reason.SUBSCRIPTION_CREATE
    assert_consolidated(start, stripe)


def test_a_consolidated_clients_cycle_invoice_from_the_run_is_never_charged_emailed_or_past_due(
        stripe, client_by_card, committed):
    committed(billing_run, now=PERIOD_END)
    committed(billing_run, now=PERIOD_END + timedelta(days=60))

    cycle = Invoice.objects.get(subscription=client_by_card, billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE,
                                period_start=STARTED)
    assert_consolidated(cycle, stripe)
    client_by_card.refresh_from_db()
    assert client_by_card.status == Subscription.Status.ACTIVE


def test_a_consolidated_clients_draft_finalised_when_its_draft_period_ends_is_consolidated(stripe, client_by_card,
                                                                                           committed):
    with override_settings(BILLING_DRAFT_PERIOD_HOURS=24):
        committed(billing_run, now=PERIOD_END)
        cycle = Invoice.objects.get(subscription=client_by_card, billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE)
        assert cycle.status == Invoice.Status.DRAFT
        committed(billing_run, now=PERIOD_END + timedelta(days=2))

    assert_consolidated(cycle, stripe)


def test_a_consolidated_clients_proration_invoice_is_consolidated(stripe, client_by_card, committed):
    dearer = PriceFactory(fixed_amount=Decimal("199.00"))
    committed(subscription_change, subscription=client_by_card, price=dearer, actor=ACTOR,
              now=STARTED + timedelta(days=10), allow_private=True)

    [update] = [invoice for invoice in invoices_of(client_by_card.tenant)
                if invoice.billing_reason == Invoice.Reason.SUBSCRIPTION_UPDATE]
    assert_consolidated(update, stripe)


def test_a_manual_invoice_ops_finalise_for_a_consolidated_client_is_consolidated(stripe, tenant_alpha, tenant_beta,
                                                                               committed):
    billed_through(tenant_alpha, tenant_beta, at=STARTED)
    card_on_file(stripe, tenant_alpha)

    invoice = committed(stripe_invoice, tenant_alpha, "40.00", collection_method="stripe")

    assert_consolidated(invoice, stripe)


def test_an_accepted_quotes_invoice_for_a_consolidated_client_is_consolidated(stripe, tenant_alpha, tenant_beta,
                                                                            committed):
    billed_through(tenant_alpha, tenant_beta, at=STARTED)
    quote = service_quote_request(tenant=tenant_alpha, product=Product.objects.get(code="website-audit"),
                                  brief="Audit our site", actor=ACTOR, now=STARTED)
    service_quote_send(quote=quote, amount=Money(Decimal("299.00"), "USD"), note="", valid_until=None,
                       actor="ops@tollgate.test", now=STARTED)

    quote = committed(service_quote_accept, quote=quote, actor=ACTOR, now=STARTED + timedelta(hours=1))

    assert_consolidated(quote.invoice, stripe)


def test_each_consolidated_client_invoice_is_announced_by_invoice_consolidated_alone(tenant_alpha, tenant_beta,
                                                                                     committed):
    billed_through(tenant_alpha, tenant_beta, at=STARTED)
    heard = {"consolidated": [], "finalized": []}

    def consolidated(sender, invoice, **kwargs):
        heard["consolidated"].append(invoice.pk)

    def finalized(sender, invoice, **kwargs):
        heard["finalized"].append(invoice.pk)

    invoice_consolidated.connect(consolidated)
    invoice_finalized.connect(finalized)
    try:
        invoice = committed(stripe_invoice, tenant_alpha, "40.00")
    finally:
        invoice_consolidated.disconnect(consolidated)
        invoice_finalized.disconnect(finalized)

    assert heard == {"consolidated": [invoice.pk], "finalized": []}


def test_a_consolidated_client_cannot_buy_a_token_pack(tenant_alpha, tenant_beta):
    billed_through(tenant_alpha, tenant_beta, at=STARTED)

    with pytest.raises(BilledThroughPayer, match=f"billed through {tenant_beta.name}"):
        token_pack_purchase(tenant=tenant_alpha, pack=TokenPack.objects.get(code="tokens-1m"), actor=ACTOR,
                            now=STARTED)

    assert not Invoice.objects.filter(tenant=tenant_alpha).exists()


def test_the_api_refuses_a_consolidated_clients_token_pack_with_who_bills_it(tenant_alpha, tenant_beta):
    billed_through(tenant_alpha, tenant_beta, at=STARTED)
    api = api_client(tenant_alpha, api_key_for(tenant_alpha))

    response = api.post("/api/v1/wallet/purchases", {"pack": "tokens-1m"}, content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="consolidated-order")

    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["code"], error["details"]) == ("billed_through_payer", {"billed_through": tenant_beta.name})
    assert not TokenPurchase.objects.filter(tenant=tenant_alpha).exists()


def test_a_consolidated_clients_auto_recharge_charges_nothing_and_turns_off(stripe, tenant_alpha, tenant_beta,
                                                                            committed):
    wallet_credit(tenant=tenant_alpha, tokens=150_000, kind=WalletEntry.Kind.ADJUSTMENT, reason="Test funds",
                  idempotency_key="test-funds")
    card_on_file(stripe, tenant_alpha)
    auto_recharge_save(tenant=tenant_alpha, enabled=True, threshold=100_000,
                       pack=TokenPack.objects.get(code="tokens-1m"), actor=ACTOR, now=STARTED)
    billed_through(tenant_alpha, tenant_beta, at=STARTED)

    committed(wallet_debit, tenant=tenant_alpha, tokens=60_000, feature="ai_api", reason="Test usage",
              idempotency_key="crossing")

    setting = AutoRecharge.objects.get(tenant=tenant_alpha)
    assert (setting.enabled, setting.off_reason) == (False, AutoRecharge.OffReason.PACK_UNAVAILABLE)
    assert stripe.of_type("payment_intent") == []
    assert not Invoice.objects.filter(tenant=tenant_alpha).exists()


def test_an_invoice_finalised_after_the_arrangement_ended_is_the_clients_again(stripe, tenant_alpha, tenant_beta,
                                                                              committed):
    billed_through(tenant_alpha, tenant_beta, at=STARTED)
    consolidated_billing_end(client=tenant_alpha, now=STARTED + timedelta(days=1))
    card_on_file(stripe, tenant_alpha)

    invoice = committed(stripe_invoice, tenant_alpha, "40.00", collection_method="stripe")

    invoice.refresh_from_db()
    assert (invoice.collection_method, invoice.consolidated_billing_id) == ("stripe", None)
    assert charged(stripe, invoice) and emailed_about(invoice)
