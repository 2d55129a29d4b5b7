"""Token packs bought through billing: an order is sold on a one-time invoice; paying the invoice credits the
tokens exactly once, voiding it cancels the order, a credit note takes its share of the tokens back (or is
refused when they are used), and nothing credits an invoiced order's tokens behind its invoice's back."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models.signals import post_save

from billing.analytics.services import TOKEN_KINDS
from billing.errors import InvoiceStateInvalid
from billing.invoicing.credit import account_credit_add, account_credit_balance
from billing.invoicing.drafting import invoice_issue, one_time_invoice_draft
from billing.invoicing.events import invoice_paid
from billing.invoicing.services import credit_note_issue, invoice_mark_paid, invoice_void
from billing.models import AccountCreditEntry, CreditNote, DocumentSequence, Invoice, InvoiceLine
from billing.token_packs import TokenPackCreditRefused, token_pack_purchase, token_pack_purchase_cancel
from config.money import Money
from metering.models import TokenPack, TokenPurchase, WalletEntry
from metering.wallets import services as wallet_services
from metering.wallets.selectors import wallet_ledger_sum
from metering.wallets.services import (
    PurchaseInvoiced,
    PurchaseNotPending,
    TokenPackUnavailable,
    token_purchase_cancel,
    token_purchase_mark_paid,
    wallet_credit,
    wallet_debit,
)
from tenants.models import Tenant
from tests.support.billing import billing_profile, invoice_check, tax_rate
from tests.support.clock import NOW
from tests.support.concurrency import run_together
from tests.support.factories import OpsUserFactory
from tests.support.tenants import tenant_billing_purge, tenant_metering_purge

# No module-wide django_db mark: the concurrency tests below commit for real (committed_db); the others get the
# per-test transaction through tenant_alpha.
OWNER = "owner@alpha.test"
OPS = "ops@tollgate.test"
LATER = NOW + timedelta(days=2)
Status = Invoice.Status


@pytest.fixture(autouse=True)
def own_series(settings):
    """Series no other test uses, so that invoices other tests committed cannot shift the numbers here."""
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "ZT", "ZC"


@pytest.fixture
def pack_1m() -> TokenPack:
    return TokenPack.objects.get(code="tokens-1m")  # seeded: 1,000,000 tokens for 100.00 USD


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def buy(tenant, pack, *, now=NOW):
    return token_pack_purchase(tenant=tenant, pack=pack, actor=OWNER, now=now)


def bought_and_paid(tenant, pack) -> TokenPurchase:
    order = buy(tenant, pack)
    invoice_mark_paid(invoice=order.invoice, actor=OPS, now=LATER)
    return TokenPurchase.objects.get(pk=order.purchase.pk)


def balance(tenant) -> int:
    return wallet_services.wallet_ensure(tenant=tenant).balance


def purchase_credits(tenant) -> int:
    return WalletEntry.objects.filter(wallet__tenant=tenant, kind=WalletEntry.Kind.PURCHASE).count()


def credit_note(invoice, amount: str) -> CreditNote:
    return credit_note_issue(invoice=Invoice.objects.get(pk=invoice.pk), amount=usd(amount),
                             reason="product_unsatisfactory", memo="", actor=OPS, now=LATER)


# --- Ordering ------------------------------------------------------------------------------------------------

def test_ordering_a_pack_issues_a_finalised_one_time_invoice_for_its_price(tenant_alpha, pack_1m):
    order = buy(tenant_alpha, pack_1m)

    invoice = invoice_check(order.invoice)
    line = invoice.lines.get()
    assert (invoice.status, invoice.billing_reason, invoice.number, invoice.total) == (
        Status.OPEN, "one_time", "ZT-2026-000001", Decimal("100.00"))
    assert (line.description, line.quantity, line.amount) == (
        f"AI tokens: 1,000,000-token pack (order #{order.purchase.pk})", 1, Decimal("100.00"))
    assert (order.purchase.status, order.purchase.invoice_id) == (TokenPurchase.Status.PENDING, invoice.pk)
    assert balance(tenant_alpha) == 0


def test_a_token_pack_is_sold_on_a_token_pack_line_which_analytics_count_as_ai_token_revenue(tenant_alpha, pack_1m):
    line = buy(tenant_alpha, pack_1m).invoice.lines.get()

    assert line.kind == InvoiceLine.Kind.TOKEN_PACK
    assert line.kind in TOKEN_KINDS


def test_the_token_pack_invoice_carries_the_tenants_tax(tenant_alpha, pack_1m):
    tax_rate(percentage="23", country="IE")
    billing_profile(tenant_alpha, country="IE")

    invoice = invoice_check(buy(tenant_alpha, pack_1m).invoice)

    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        Decimal("100.00"), Decimal("23.00"), Decimal("123.00"))


def test_ordering_a_pack_again_while_it_awaits_payment_returns_the_same_order_and_invoice(tenant_alpha, pack_1m):
    first = buy(tenant_alpha, pack_1m)

    again = buy(tenant_alpha, pack_1m)

    assert (again.purchase.pk, again.invoice.pk) == (first.purchase.pk, first.invoice.pk)
    assert Invoice.objects.filter(tenant=tenant_alpha).count() == 1


def test_a_draft_period_does_not_hold_a_token_pack_invoice_in_draft(tenant_alpha, pack_1m, settings):
    settings.BILLING_DRAFT_PERIOD_HOURS = 24

    assert buy(tenant_alpha, pack_1m).invoice.status == Status.OPEN


def test_a_pack_no_longer_offered_cannot_be_ordered(tenant_alpha, pack_1m):
    TokenPack.objects.filter(pk=pack_1m.pk).update(active=False)

    with pytest.raises(TokenPackUnavailable):
        buy(tenant_alpha, pack_1m)

    assert not Invoice.objects.filter(tenant=tenant_alpha).exists()


def test_account_credit_covering_the_pack_pays_its_invoice_and_credits_the_tokens_at_once(tenant_alpha, pack_1m):
    account_credit_add(tenant=tenant_alpha, amount=usd("150.00"), kind=AccountCreditEntry.Kind.PROMOTION,
                       description="Welcome", actor=OPS, now=NOW)

    order = buy(tenant_alpha, pack_1m)

    assert (order.invoice.status, order.invoice.credit_applied) == (Status.PAID, Decimal("100.00"))
    assert order.purchase.status == TokenPurchase.Status.PAID
    assert balance(tenant_alpha) == 1_000_000 == wallet_ledger_sum(tenant=tenant_alpha)


# --- Paying --------------------------------------------------------------------------------------------------

def test_paying_the_invoice_credits_the_tokens(tenant_alpha, pack_1m):
    order = buy(tenant_alpha, pack_1m)

    invoice_mark_paid(invoice=order.invoice, actor=OPS, now=LATER)

    purchase = TokenPurchase.objects.get(pk=order.purchase.pk)
    entry = WalletEntry.objects.get(wallet__tenant=tenant_alpha, kind=WalletEntry.Kind.PURCHASE)
    assert purchase.status == TokenPurchase.Status.PAID
    assert (entry.tokens, entry.idempotency_key) == (1_000_000, f"purchase:{purchase.pk}")
    assert order.invoice.number in entry.reason
    assert balance(tenant_alpha) == 1_000_000


def test_a_tenant_cannot_get_tokens_twice_by_replaying_the_paid_signal(tenant_alpha, pack_1m):
    purchase = bought_and_paid(tenant_alpha, pack_1m)
    invoice = Invoice.objects.select_related("tenant").get(pk=purchase.invoice_id)

    invoice_paid.send(sender=Invoice, invoice=invoice)
    post_save.send(sender=Invoice, instance=invoice, created=False, update_fields=None)
    invoice.save(update_fields=["status", "updated_at"])
    with pytest.raises(InvoiceStateInvalid):
        invoice_mark_paid(invoice=invoice, actor=OPS, now=LATER)
    with pytest.raises(PurchaseNotPending):
        token_purchase_mark_paid(purchase=purchase, actor=OPS)

    assert balance(tenant_alpha) == 1_000_000 and purchase_credits(tenant_alpha) == 1


def test_a_tenant_cannot_get_the_tokens_of_an_unpaid_invoice_through_its_order(tenant_alpha, pack_1m):
    order = buy(tenant_alpha, pack_1m)

    with pytest.raises(PurchaseInvoiced) as refused:
        token_purchase_mark_paid(purchase=order.purchase, actor=OPS)

    assert order.invoice.number in refused.value.message
    assert TokenPurchase.objects.get(pk=order.purchase.pk).status == TokenPurchase.Status.PENDING
    assert balance(tenant_alpha) == 0


def test_a_payment_whose_tokens_cannot_be_credited_is_not_recorded(tenant_alpha, pack_1m, monkeypatch):
    order = buy(tenant_alpha, pack_1m)

    def credit_fails(**kwargs):
        raise RuntimeError("the wallet is unreachable")

    monkeypatch.setattr(wallet_services, "wallet_credit", credit_fails)
    with pytest.raises(RuntimeError):
        invoice_mark_paid(invoice=order.invoice, actor=OPS, now=LATER)

    assert Invoice.objects.get(pk=order.invoice.pk).status == Status.OPEN
    assert TokenPurchase.objects.get(pk=order.purchase.pk).status == TokenPurchase.Status.PENDING


def test_paying_an_invoice_that_sells_no_tokens_credits_none(tenant_alpha, pack_1m):
    order = buy(tenant_alpha, pack_1m)
    other = invoice_issue(tenant=tenant_alpha, subscription=None, billing_reason="one_time", now=NOW,
                          draft=one_time_invoice_draft(tenant=tenant_alpha, description="Audit", amount=usd("5.00")))

    invoice_mark_paid(invoice=other, actor=OPS, now=LATER)

    assert TokenPurchase.objects.get(pk=order.purchase.pk).status == TokenPurchase.Status.PENDING
    assert balance(tenant_alpha) == 0


# --- Voiding and cancelling ----------------------------------------------------------------------------------

def test_voiding_the_invoice_cancels_the_order(tenant_alpha, pack_1m):
    order = buy(tenant_alpha, pack_1m)

    invoice_void(invoice=order.invoice, actor=OPS, now=LATER)

    assert TokenPurchase.objects.get(pk=order.purchase.pk).status == TokenPurchase.Status.CANCELLED
    assert balance(tenant_alpha) == 0


def test_cancelling_an_order_voids_its_invoice(tenant_alpha, pack_1m):
    order = buy(tenant_alpha, pack_1m)

    purchase = token_pack_purchase_cancel(purchase=order.purchase, actor=OWNER, now=LATER)

    assert purchase.status == TokenPurchase.Status.CANCELLED
    assert Invoice.objects.get(pk=order.invoice.pk).status == Status.VOID


def test_an_invoiced_order_cannot_be_cancelled_behind_its_invoice(tenant_alpha, pack_1m):
    order = buy(tenant_alpha, pack_1m)

    with pytest.raises(PurchaseInvoiced):
        token_purchase_cancel(purchase=order.purchase, actor=OPS)

    assert TokenPurchase.objects.get(pk=order.purchase.pk).status == TokenPurchase.Status.PENDING


def test_a_cancelled_order_can_be_ordered_again_on_a_new_invoice(tenant_alpha, pack_1m):
    first = buy(tenant_alpha, pack_1m)
    token_pack_purchase_cancel(purchase=first.purchase, actor=OWNER, now=LATER)

    second = buy(tenant_alpha, pack_1m, now=LATER)

    assert second.purchase.pk != first.purchase.pk and second.invoice.number == "ZT-2026-000002"


# --- Credit notes --------------------------------------------------------------------------------------------

def test_a_full_credit_note_takes_every_token_of_the_pack_back(tenant_alpha, pack_1m):
    purchase = bought_and_paid(tenant_alpha, pack_1m)

    note = credit_note(purchase.invoice, "100.00")

    entry = WalletEntry.objects.get(wallet__tenant=tenant_alpha, idempotency_key=f"credit-note:{note.pk}")
    assert (entry.kind, entry.tokens) == (WalletEntry.Kind.ADJUSTMENT, -1_000_000)
    assert note.number in entry.reason
    assert balance(tenant_alpha) == 0 == wallet_ledger_sum(tenant=tenant_alpha)
    assert TokenPurchase.objects.get(pk=purchase.pk).tokens_refunded == 1_000_000
    assert account_credit_balance(tenant=tenant_alpha, currency="USD") == usd("100.00")


def test_partial_credit_notes_each_take_their_share_and_together_every_token(tenant_alpha, pack_1m):
    purchase = bought_and_paid(tenant_alpha, pack_1m)

    taken = []
    for amount in ("33.33", "33.33", "33.34"):
        before = balance(tenant_alpha)
        credit_note(purchase.invoice, amount)
        taken.append(before - balance(tenant_alpha))

    assert taken == [333_300, 333_300, 333_400]
    assert TokenPurchase.objects.get(pk=purchase.pk).tokens_refunded == 1_000_000


def test_a_credit_note_is_refused_when_the_tokens_it_takes_back_are_used(tenant_alpha, pack_1m):
    purchase = bought_and_paid(tenant_alpha, pack_1m)
    wallet_debit(tenant=tenant_alpha, tokens=600_000, feature="ai_api", reason="calls", idempotency_key="used")

    with pytest.raises(TokenPackCreditRefused) as refused:
        credit_note(purchase.invoice, "100.00")

    assert refused.value.details == {"tokens_to_take_back": 1_000_000, "tokens_left": 400_000}
    assert not CreditNote.objects.filter(invoice_id=purchase.invoice_id).exists()
    assert Invoice.objects.get(pk=purchase.invoice_id).amount_credited == 0
    assert account_credit_balance(tenant=tenant_alpha, currency="USD") == usd("0")
    assert balance(tenant_alpha) == 400_000


def test_crediting_what_the_unused_tokens_are_worth_is_allowed(tenant_alpha, pack_1m):
    purchase = bought_and_paid(tenant_alpha, pack_1m)
    wallet_debit(tenant=tenant_alpha, tokens=600_000, feature="ai_api", reason="calls", idempotency_key="used")

    credit_note(purchase.invoice, "40.00")

    assert balance(tenant_alpha) == 0


def test_a_credit_note_takes_back_bought_tokens_not_the_expiring_allowance(tenant_alpha, pack_1m):
    purchase = bought_and_paid(tenant_alpha, pack_1m)
    wallet_credit(tenant=tenant_alpha, tokens=500_000, kind="grant", reason="Monthly", idempotency_key="grant",
                  expires_at=NOW + timedelta(days=30), now=NOW)

    credit_note(purchase.invoice, "100.00")

    wallet = wallet_services.wallet_ensure(tenant=tenant_alpha)
    # What is left is the allowance, which still expires: no bought token outlives the refund.
    assert (wallet.balance, wallet.allowance) == (500_000, 500_000)


def test_a_credit_note_cannot_be_paid_for_with_the_allowance_once_the_bought_tokens_are_used(tenant_alpha,
                                                                                            pack_1m):
    purchase = bought_and_paid(tenant_alpha, pack_1m)
    wallet_debit(tenant=tenant_alpha, tokens=1_000_000, feature="ai_api", reason="calls", idempotency_key="used")
    wallet_credit(tenant=tenant_alpha, tokens=5_000_000, kind="grant", reason="Monthly", idempotency_key="grant",
                  expires_at=NOW + timedelta(days=30), now=NOW)

    with pytest.raises(TokenPackCreditRefused):
        credit_note(purchase.invoice, "10.00")

    assert balance(tenant_alpha) == 5_000_000


def test_ops_are_told_on_the_amount_why_the_credit_note_is_refused(public_client, tenant_alpha, pack_1m):
    purchase = bought_and_paid(tenant_alpha, pack_1m)
    wallet_debit(tenant=tenant_alpha, tokens=600_000, feature="ai_api", reason="calls", idempotency_key="used")
    public_client.force_login(OpsUserFactory())

    response = public_client.post(f"/admin/billing/invoice/{purchase.invoice_id}/credit-note/",
                                  {"amount": "100.00", "reason": "product_unsatisfactory"})

    assert response.status_code == 400
    assert "400,000 purchased tokens left" in response.context["form"].errors["amount"][0]


def test_a_credit_note_on_an_unpaid_token_pack_invoice_is_refused(tenant_alpha, pack_1m):
    order = buy(tenant_alpha, pack_1m)

    with pytest.raises(TokenPackCreditRefused) as refused:
        credit_note(order.invoice, "100.00")

    assert "void it instead" in refused.value.message
    assert not CreditNote.objects.exists()


def test_a_tenant_cannot_keep_the_tokens_by_taking_back_more_than_the_pack_added(tenant_alpha, pack_1m):
    purchase = bought_and_paid(tenant_alpha, pack_1m)

    with pytest.raises(wallet_services.WalletError):
        wallet_services.token_purchase_refund(purchase=purchase, tokens=1_000_001, reason="too much",
                                              idempotency_key="too-much", actor=OPS)

    assert balance(tenant_alpha) == 1_000_000


# --- Concurrency (real commits, one connection per thread) ---------------------------------------------------

@pytest.fixture
def committed_alpha(committed_db):
    """Alpha for tests whose orders and invoices must be committed; removes them afterwards."""
    alpha = Tenant.objects.get(slug="alpha")
    yield alpha
    tenant_metering_purge(alpha)
    tenant_billing_purge(alpha)
    DocumentSequence.objects.filter(series__in=["ZT", "ZC"]).delete()


def test_marking_the_invoice_paid_twice_at_once_and_the_order_paid_credits_the_tokens_once(committed_alpha,
                                                                                          pack_1m):
    order = buy(committed_alpha, pack_1m)

    outcomes = run_together(
        lambda: invoice_mark_paid(invoice=order.invoice, actor=OPS, now=LATER),
        lambda: invoice_mark_paid(invoice=order.invoice, actor=OPS, now=LATER),
        lambda: token_purchase_mark_paid(purchase=order.purchase, actor=OPS),
    )

    paid = [outcome for outcome in outcomes if isinstance(outcome, Invoice)]
    assert len(paid) == 1, outcomes
    assert all(isinstance(outcome, InvoiceStateInvalid | PurchaseInvoiced | PurchaseNotPending)
               for outcome in outcomes if outcome not in paid), outcomes
    assert balance(committed_alpha) == 1_000_000 == wallet_ledger_sum(tenant=committed_alpha)
    assert purchase_credits(committed_alpha) == 1


def test_a_double_clicked_order_makes_one_order_on_one_invoice(committed_alpha, pack_1m):
    outcomes = run_together(lambda: buy(committed_alpha, pack_1m), lambda: buy(committed_alpha, pack_1m))

    assert {outcome.purchase.pk for outcome in outcomes} == {TokenPurchase.objects.get(tenant=committed_alpha).pk}
    assert Invoice.objects.filter(tenant=committed_alpha).count() == 1
    assert DocumentSequence.objects.get(series="ZT", year=2026).last_number == 1
