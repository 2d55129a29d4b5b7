"""Wallet auto-recharge: a debit that leaves the balance below the threshold orders the pack on an invoice collected
by Stripe and charges it off-session once; the tokens come when the charge succeeds; concurrent debits that cross
together make one charge; a decline voids the invoice, turns auto-recharge off and tells the owners once; a bank
that wants the cardholder leaves the invoice payable on its hosted page; it cannot be turned on without a card."""

from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from djstripe.models import Customer

from billing.auto_recharge.services import (
    AutoRechargeCardMissing,
    AutoRechargeInvalid,
    auto_recharge_save,
    auto_recharge_start,
)
from billing.invoicing.credit import account_credit_add
from billing.models import (
    AccountCreditEntry,
    AutoRecharge,
    AutoRechargeOrder,
    DocumentSequence,
    DunningCase,
    Invoice,
    Payment,
    StripeSettlement,
)
from billing.payments import stripe_api
from billing.payments.events import payment_failed
from billing.payments.services import payment_intent_apply
from config.money import Money
from metering.models import TokenPack, TokenPurchase, Wallet, WalletEntry
from metering.wallets.services import InsufficientBalance, wallet_credit, wallet_debit
from tenants.models import Tenant
from tests.support.clock import NOW
from tests.support.concurrency import run_together
from tests.support.payments import card_on_file
from devtools.stripe_fake import CARD_AUTHENTICATION, CARD_DECLINED
from tests.support.tenants import tenant_billing_purge, tenant_metering_purge

OWNER = "owner@alpha.test"
PAYMENT_INTENTS = "/v1/payment_intents"
THRESHOLD = 100_000
PACK_TOKENS = 1_000_000  # tokens-1m: 1,000,000 tokens for 100.00 USD
OffReason = AutoRecharge.OffReason
Status = AutoRechargeOrder.Status


@pytest.fixture(autouse=True)
def own_series(settings):
    """Series no other test uses, so that invoices other tests committed cannot shift the numbers here."""
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "ZR", "ZS"


@pytest.fixture
def pack_1m() -> TokenPack:
    return TokenPack.objects.get(code="tokens-1m")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a call as a committed transaction: what it leaves for after commit (the recharge's start, the charge,
    the payment rail's signals, emails) runs too."""
    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)
    return run


def funded(tenant, tokens: int) -> None:
    wallet_credit(tenant=tenant, tokens=tokens, kind=WalletEntry.Kind.ADJUSTMENT, reason="Test funds",
                  idempotency_key=f"test-funds-{tokens}")


def debit(tenant, tokens: int, key: str):
    return wallet_debit(tenant=tenant, tokens=tokens, feature="ai_api", reason="Test usage", idempotency_key=key)


def turned_on(tenant, pack, threshold: int = THRESHOLD):
    return auto_recharge_save(tenant=tenant, enabled=True, threshold=threshold, pack=pack, actor=OWNER, now=NOW)


def balance(tenant) -> int:
    return Wallet.objects.get(tenant=tenant).balance


def charges(stripe) -> list:
    return stripe.creates(PAYMENT_INTENTS)


def off_mails() -> list[str]:
    return [message.subject for message in mail.outbox
            if "auto-recharge is off" in message.subject or "confirm your AI-token recharge" in message.subject]


@pytest.fixture
def armed(stripe, tenant_alpha, pack_1m):
    """Alpha with 150,000 tokens, a good card and auto-recharge on below 100,000 tokens."""
    funded(tenant_alpha, 150_000)
    card_on_file(stripe, tenant_alpha)
    turned_on(tenant_alpha, pack_1m)
    return tenant_alpha


# --- The crossing --------------------------------------------------------------------------------------------

def test_a_debit_that_leaves_the_balance_below_the_threshold_charges_the_pack_once_and_credits_its_tokens(
        stripe, armed, committed):
    committed(debit, armed, 60_000, "crossing")

    order = AutoRechargeOrder.objects.get(tenant=armed)
    [charge] = charges(stripe)
    assert (order.status, order.balance_at_start, order.invoice.status) == (Status.PAID, 90_000, Invoice.Status.PAID)
    assert (order.invoice.collection_method, order.invoice.total) == ("stripe", 100)
    assert (charge.params["amount"], charge.params["off_session"]) == (10_000, True)
    assert balance(armed) == 90_000 + PACK_TOKENS
    assert TokenPurchase.objects.get(pk=order.purchase_id).status == TokenPurchase.Status.PAID


def test_a_debit_that_stays_at_or_above_the_threshold_charges_nothing(stripe, armed, committed):
    committed(debit, armed, 50_000, "not-crossing")

    assert not AutoRechargeOrder.objects.filter(tenant=armed).exists()
    assert charges(stripe) == []


def test_debits_below_the_threshold_while_a_recharge_is_in_flight_start_no_other(stripe, armed):
    debit(armed, 60_000, "crossing")  # not committed: the charge has not run, the recharge is in flight
    first = auto_recharge_start(tenant_id=armed.pk, now=timezone.now())
    debit(armed, 10_000, "below-1")

    again = auto_recharge_start(tenant_id=armed.pk, now=timezone.now())

    assert first.status == Status.PENDING and again is None
    assert AutoRechargeOrder.objects.filter(tenant=armed).count() == 1
    assert Wallet.objects.get(tenant=armed).recharge_below is None


def test_a_new_crossing_after_the_last_recharge_was_paid_starts_the_next_one(stripe, armed, committed):
    committed(debit, armed, 60_000, "crossing-1")  # 90,000 -> recharged to 1,090,000
    committed(debit, armed, 1_000_000, "crossing-2")  # 90,000 again

    assert list(AutoRechargeOrder.objects.filter(tenant=armed).values_list("status", flat=True)) == [
        Status.PAID, Status.PAID]
    assert len(charges(stripe)) == 2
    assert balance(armed) == 90_000 + PACK_TOKENS


def test_a_refused_debit_at_a_balance_below_the_threshold_starts_a_recharge(stripe, armed, committed):
    # An adjustment takes the balance below the threshold without a debit: the next request is too large for
    # it, and its refusal alone must start the recharge (no debit could ever succeed at a balance of 0).
    wallet_credit(tenant=armed, tokens=-100_000, kind=WalletEntry.Kind.ADJUSTMENT, reason="Correction",
                  idempotency_key="correction")

    with pytest.raises(InsufficientBalance):
        committed(debit, armed, 5_000_000, "too-much")

    assert AutoRechargeOrder.objects.get(tenant=armed).status == Status.PAID
    assert balance(armed) == 50_000 + PACK_TOKENS


def test_turning_it_on_below_the_threshold_recharges_at_once(stripe, tenant_alpha, pack_1m, committed):
    funded(tenant_alpha, 10_000)
    card_on_file(stripe, tenant_alpha)

    saved = committed(turned_on, tenant_alpha, pack_1m)

    assert saved.order is not None
    assert AutoRechargeOrder.objects.get(pk=saved.order.pk).status == Status.PAID
    assert balance(tenant_alpha) == 10_000 + PACK_TOKENS


def test_a_recharge_the_account_credit_covers_is_paid_without_a_charge(stripe, armed, committed):
    account_credit_add(tenant=armed, amount=Money(Decimal("500.00"), "USD"), kind=AccountCreditEntry.Kind.ADJUSTMENT,
                       description="Goodwill", actor="ops@tollgate.test", now=NOW)

    committed(debit, armed, 60_000, "crossing")

    order = AutoRechargeOrder.objects.get(tenant=armed)
    assert (order.status, order.invoice.amount_due) == (Status.PAID, 0)
    assert charges(stripe) == []
    assert balance(armed) == 90_000 + PACK_TOKENS
    assert Wallet.objects.get(tenant=armed).recharge_below == THRESHOLD


# --- Failures ---------------------------------------------------------------------------------------------------

@pytest.fixture
def declined(stripe, tenant_alpha, pack_1m, committed):
    """Alpha's auto-recharge on a card that declines, and the debit that crossed the threshold."""
    funded(tenant_alpha, 150_000)
    card_on_file(stripe, tenant_alpha, CARD_DECLINED)
    turned_on(tenant_alpha, pack_1m)
    committed(debit, tenant_alpha, 60_000, "crossing")
    return AutoRechargeOrder.objects.get(tenant=tenant_alpha)


def test_a_declined_recharge_voids_its_invoice_and_turns_auto_recharge_off(tenant_alpha, declined):
    setting = AutoRecharge.objects.get(tenant=tenant_alpha)

    assert (declined.status, declined.invoice.status, declined.failure_code) == (
        Status.FAILED, Invoice.Status.VOID, "generic_decline")
    assert (setting.enabled, setting.off_reason) == (False, OffReason.CARD_DECLINED)
    assert TokenPurchase.objects.get(pk=declined.purchase_id).status == TokenPurchase.Status.CANCELLED
    assert balance(tenant_alpha) == 90_000
    assert Wallet.objects.get(tenant=tenant_alpha).recharge_below is None


def test_a_declined_recharge_emails_the_owners_once(tenant_alpha, declined, committed):
    payment = Payment.objects.get(invoice=declined.invoice)
    committed(payment_failed.send, sender=Payment, payment=payment)  # the same failure reported again

    [subject] = off_mails()
    [message] = [m for m in mail.outbox if m.subject == subject]
    assert OWNER in message.to
    assert declined.invoice.number in message.body and "voided" in message.body


def test_a_declined_recharge_does_not_enter_dunning(declined):
    assert not DunningCase.objects.filter(invoice_id=declined.invoice_id).exists()


def test_after_a_decline_further_usage_charges_nothing_until_it_is_turned_on_again(
        stripe, tenant_alpha, pack_1m, declined, committed):
    committed(debit, tenant_alpha, 10_000, "below-after-decline")
    assert len(charges(stripe)) == 1

    card_on_file(stripe, tenant_alpha)  # a new good card
    committed(turned_on, tenant_alpha, pack_1m)

    assert len(charges(stripe)) == 2
    assert AutoRechargeOrder.objects.filter(tenant=tenant_alpha).latest("id").status == Status.PAID
    assert balance(tenant_alpha) == 80_000 + PACK_TOKENS


def test_a_recharge_the_bank_wants_confirmed_stays_payable_on_its_hosted_page(
        stripe, tenant_alpha, pack_1m, committed):
    funded(tenant_alpha, 150_000)
    card_on_file(stripe, tenant_alpha, CARD_AUTHENTICATION)
    turned_on(tenant_alpha, pack_1m)
    committed(debit, tenant_alpha, 60_000, "crossing")

    order = AutoRechargeOrder.objects.get(tenant=tenant_alpha)
    setting = AutoRecharge.objects.get(tenant=tenant_alpha)
    assert (order.status, order.invoice.status, setting.enabled, setting.off_reason) == (
        Status.PENDING, Invoice.Status.OPEN, False, OffReason.ACTION_REQUIRED)
    [subject] = off_mails()
    assert order.action_url and order.action_url in [m for m in mail.outbox if m.subject == subject][0].body

    session_id = stripe.of_type("checkout.session")[-1]["id"]
    paid = stripe.checkout_complete(session_id)  # the cardholder confirms on the hosted page
    committed(payment_intent_apply, intent=stripe_api.payment_intent_retrieve(paid["payment_intent"]),
              now=timezone.now())

    assert AutoRechargeOrder.objects.get(pk=order.pk).status == Status.PAID
    assert balance(tenant_alpha) == 90_000 + PACK_TOKENS


def test_a_tenant_cannot_get_tokens_by_a_recharge_that_was_never_paid(stripe, tenant_alpha, declined):
    # The declined recharge's order is cancelled with its invoice; nothing can mark it paid any more.
    purchases = WalletEntry.objects.filter(wallet__tenant=tenant_alpha, kind=WalletEntry.Kind.PURCHASE)

    assert not purchases.exists()
    assert not Invoice.objects.filter(tenant=tenant_alpha, status=Invoice.Status.PAID).exists()
    assert balance(tenant_alpha) == 90_000


# --- Turning it on ---------------------------------------------------------------------------------------------

def test_auto_recharge_cannot_be_turned_on_without_a_saved_card(stripe, tenant_alpha, pack_1m):
    with pytest.raises(AutoRechargeCardMissing) as refused:
        turned_on(tenant_alpha, pack_1m)

    assert refused.value.field == "enabled"
    assert not AutoRecharge.objects.filter(tenant=tenant_alpha).exists()


def test_auto_recharge_cannot_be_turned_on_without_card_payments(tenant_alpha, pack_1m, settings):
    settings.STRIPE_SECRET_KEY = ""

    with pytest.raises(AutoRechargeCardMissing):
        turned_on(tenant_alpha, pack_1m)


def test_a_threshold_below_one_token_is_refused(stripe, tenant_alpha, pack_1m):
    card_on_file(stripe, tenant_alpha)

    with pytest.raises(AutoRechargeInvalid) as refused:
        turned_on(tenant_alpha, pack_1m, threshold=0)

    assert refused.value.field == "threshold"


def test_turning_it_off_disarms_the_wallet(stripe, armed, pack_1m, committed):
    auto_recharge_save(tenant=armed, enabled=False, threshold=THRESHOLD, pack=pack_1m, actor=OWNER, now=NOW)
    committed(debit, armed, 60_000, "crossing")

    assert Wallet.objects.get(tenant=armed).recharge_below is None
    assert not AutoRechargeOrder.objects.filter(tenant=armed).exists()


# --- Concurrency (real commits, one connection per thread) -------------------------------------------------------

@pytest.fixture
def committed_alpha(committed_db, stripe):
    """Alpha for a test whose debits, orders and charges must be committed; removes them afterwards."""
    alpha = Tenant.objects.get(slug="alpha")
    yield alpha
    AutoRechargeOrder.objects.filter(tenant=alpha).delete()
    AutoRecharge.objects.filter(tenant=alpha).delete()
    StripeSettlement.objects.filter(tenant_id=alpha.pk).delete()
    Payment.objects.filter(tenant=alpha).delete()
    Customer.objects.filter(subscriber=alpha).delete()
    tenant_metering_purge(alpha)
    tenant_billing_purge(alpha)
    DocumentSequence.objects.filter(series__in=["ZR", "ZS"]).delete()


def test_concurrent_debits_that_cross_the_threshold_together_make_one_charge(stripe, committed_alpha, pack_1m):
    funded(committed_alpha, 150_000)
    card_on_file(stripe, committed_alpha)
    turned_on(committed_alpha, pack_1m)

    outcomes = run_together(*(lambda n=n: debit(committed_alpha, 20_000, f"racing-{n}") for n in range(6)))

    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert len(charges(stripe)) == 1
    assert AutoRechargeOrder.objects.filter(tenant=committed_alpha).count() == 1
    assert balance(committed_alpha) == 150_000 - 6 * 20_000 + PACK_TOKENS
