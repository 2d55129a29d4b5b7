"""Credit notes back to the card: a Stripe refund asked once the credit note is committed, with the credit note's
Idempotency-Key; charge.refunded / refund.updated / refund.failed settle it once, whichever comes first, twice or
late; a failed refund puts the amount on the account credit; a refund made in Stripe's dashboard becomes a credit
note to the card; attacks: replays, a refund bigger than paid, another tenant's credit note in the metadata."""

from decimal import Decimal

import pytest

from billing.invoicing.credit import account_credit_add, account_credit_balance
from billing.invoicing.services import credit_note_issue
from billing.models import AccountCreditEntry, CardRefund, CreditNote, Invoice, StripeSettlement
from billing.payments import stripe_api
from billing.payments.errors import CardRefundNotPossible, PaymentProviderUnavailable
from billing.payments.refunds import card_refund_metadata, card_refund_request
from billing.payments.services import invoice_charge
from billing.token_packs import TokenPackCreditRefused, token_pack_purchase
from config.money import Money
from devtools.stripe_fake import webhook_post
from metering.models import TokenPack
from metering.wallets.services import wallet_debit
from notifications.categories import Category
from notifications.models import Notification
from tests.support.clock import NOW
from tests.support.factories import OpsUserFactory
from tests.support.payments import card_on_file, stripe_invoice

Kind = StripeSettlement.Kind
CARD = CreditNote.RefundTo.CARD
Status = CardRefund.Status


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


@pytest.fixture(autouse=True)
def own_series(settings):
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "RF", "RC"


@pytest.fixture
def deliver(public_client, webhook_endpoint):
    def post(event, *, expect=200, **signing):
        response = webhook_post(public_client, webhook_endpoint, event, **signing)
        assert response.status_code == expect, response.content
        return response
    return post


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run the on-commit callbacks (the refund task, eager in tests) of what the test does inside it."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def paid_by_card(stripe, tenant, amount="25.00") -> Invoice:
    card_on_file(stripe, tenant)
    invoice = stripe_invoice(tenant, amount)
    invoice_charge(invoice=invoice, attempt=1, now=NOW)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    return invoice


def to_card(invoice, amount: str, *, reason="product_unsatisfactory") -> CreditNote:
    return credit_note_issue(invoice=Invoice.objects.get(pk=invoice.pk), amount=usd(amount), reason=reason,
                             memo="", actor="ops@tollgate.test", now=NOW, refund_to=CARD)


def charge_of(stripe, invoice) -> str:
    return stripe.get(invoice.payments.get().payment_intent_id)["latest_charge"]


def credit_balance(tenant) -> Decimal:
    return account_credit_balance(tenant=tenant, currency="USD").amount


# --- Asking Stripe --------------------------------------------------------------------------------------------------

def test_a_credit_note_to_the_card_refunds_its_amount_with_the_credit_notes_key(stripe, tenant_alpha, run_on_commit):
    invoice = paid_by_card(stripe, tenant_alpha)

    with run_on_commit():
        note = to_card(invoice, "10.00")

    [asked] = stripe.creates("/v1/refunds")
    assert asked.idempotency_key == f"credit-note-{note.pk}-refund"
    assert asked.params["amount"] == 1000
    assert asked.params["payment_intent"] == invoice.payments.get().payment_intent_id
    assert asked.params["metadata"]["credit_note_number"] == note.number
    assert asked.params["metadata"]["invoice_number"] == invoice.number
    assert asked.params["metadata"]["tenant_id"] == str(tenant_alpha.pk)
    refund = CardRefund.objects.get(credit_note=note)
    assert (refund.status, refund.amount) == (Status.SUCCEEDED, Decimal("10.00"))


def test_a_credit_note_to_the_card_adds_nothing_to_the_account_credit(stripe, tenant_alpha, run_on_commit):
    invoice = paid_by_card(stripe, tenant_alpha)

    with run_on_commit():
        note = to_card(invoice, "10.00")

    assert (note.refund_to, credit_balance(tenant_alpha)) == (CARD, Decimal(0))
    assert Invoice.objects.get(pk=invoice.pk).amount_credited == Decimal("10.00")


def test_stripe_is_asked_only_once_the_credit_note_is_committed(stripe, tenant_alpha):
    invoice = paid_by_card(stripe, tenant_alpha)

    note = to_card(invoice, "10.00")

    assert stripe.creates("/v1/refunds") == []
    assert CardRefund.objects.get(credit_note=note).status == Status.PENDING


def test_a_refund_asked_again_after_stripe_was_unreachable_reaches_one_refund(stripe, tenant_alpha):
    invoice = paid_by_card(stripe, tenant_alpha)
    refund = CardRefund.objects.get(credit_note=to_card(invoice, "10.00"))
    stripe.fail_next(status=503, path="/v1/refunds")

    with pytest.raises(PaymentProviderUnavailable):
        card_refund_request(card_refund_id=refund.pk, now=NOW)
    card_refund_request(card_refund_id=refund.pk, now=NOW)
    card_refund_request(card_refund_id=refund.pk, now=NOW)

    assert len(stripe.of_type("refund")) == 1
    assert CardRefund.objects.get(pk=refund.pk).status == Status.SUCCEEDED


def test_two_credit_notes_on_one_invoice_make_two_partial_refunds(stripe, tenant_alpha, run_on_commit):
    invoice = paid_by_card(stripe, tenant_alpha)

    with run_on_commit():
        to_card(invoice, "10.00")
        to_card(invoice, "15.00")

    assert sorted(r["amount"] for r in stripe.of_type("refund")) == [1000, 1500]
    assert stripe.get(charge_of(stripe, invoice))["refunded"] is True
    assert list(CardRefund.objects.values_list("status", flat=True)) == [Status.SUCCEEDED] * 2


def test_a_refund_bigger_than_the_card_paid_is_refused(stripe, tenant_alpha):
    # 10.00 of the 25.00 invoice came from account credit: the card brought 15.00 only.
    account_credit_add(tenant=tenant_alpha, amount=usd("10.00"), kind=AccountCreditEntry.Kind.PROMOTION,
                       description="Welcome", actor="ops", now=NOW)
    invoice = paid_by_card(stripe, tenant_alpha)

    with pytest.raises(CardRefundNotPossible) as refused:
        to_card(invoice, "20.00")

    assert refused.value.details["refundable"]["amount"] == "15.00"
    assert not CreditNote.objects.exists()
    assert Invoice.objects.get(pk=invoice.pk).amount_credited == 0


def test_a_second_refund_beyond_what_the_card_has_left_is_refused(stripe, tenant_alpha, run_on_commit):
    account_credit_add(tenant=tenant_alpha, amount=usd("10.00"), kind=AccountCreditEntry.Kind.PROMOTION,
                       description="Welcome", actor="ops", now=NOW)
    invoice = paid_by_card(stripe, tenant_alpha)
    with run_on_commit():
        to_card(invoice, "10.00")

    with pytest.raises(CardRefundNotPossible):
        to_card(invoice, "10.00")

    assert CreditNote.objects.count() == 1


def test_an_invoice_not_paid_by_card_cannot_be_refunded_to_a_card(stripe, tenant_alpha):
    invoice = stripe_invoice(tenant_alpha, "25.00")  # open: nothing was paid

    with pytest.raises(CardRefundNotPossible):
        to_card(invoice, "10.00")

    assert not CreditNote.objects.exists()


# --- Settling through webhooks ------------------------------------------------------------------------------------

def test_a_refund_whose_webhook_comes_before_stripes_answer_settles_once(stripe, tenant_alpha, deliver):
    invoice = paid_by_card(stripe, tenant_alpha)
    card_refund = CardRefund.objects.get(credit_note=to_card(invoice, "10.00"))
    # Stripe made the refund; our task died before recording the answer, and the webhook comes first.
    made = stripe_api.refund_create(payment_intent_id=card_refund.payment.payment_intent_id, amount=usd("10.00"),
                                    metadata=card_refund_metadata(card_refund),
                                    idempotency_key=f"credit-note-{card_refund.credit_note_id}-refund")

    deliver(stripe.event("charge.refunded", charge_of(stripe, invoice)))
    card_refund_request(card_refund_id=card_refund.pk, now=NOW)  # the task's retry: nothing more

    card_refund.refresh_from_db()
    assert (card_refund.refund_id, card_refund.status) == (made.id, Status.SUCCEEDED)
    assert len(stripe.of_type("refund")) == 1
    assert CreditNote.objects.count() == 1
    assert StripeSettlement.objects.filter(kind=Kind.REFUND_RECORDED).count() == 1


def test_a_replayed_charge_refunded_credits_once(stripe, tenant_alpha, deliver):
    invoice = paid_by_card(stripe, tenant_alpha)
    stripe_api.refund_create(payment_intent_id=invoice.payments.get().payment_intent_id, amount=usd("10.00"),
                             metadata={}, idempotency_key="dashboard-1")
    event = stripe.event("charge.refunded", charge_of(stripe, invoice))

    deliver(event)
    deliver(event)
    deliver(stripe.event("charge.refunded", charge_of(stripe, invoice)))

    assert CreditNote.objects.count() == 1
    assert Invoice.objects.get(pk=invoice.pk).amount_credited == Decimal("10.00")
    assert credit_balance(tenant_alpha) == 0


def test_a_refund_made_in_stripes_dashboard_becomes_a_credit_note_to_the_card(stripe, tenant_alpha, deliver):
    invoice = paid_by_card(stripe, tenant_alpha)
    made = stripe_api.refund_create(payment_intent_id=invoice.payments.get().payment_intent_id,
                                    amount=usd("7.50"), metadata={}, idempotency_key="dashboard-1")

    deliver(stripe.event("charge.refunded", charge_of(stripe, invoice)))

    note = CreditNote.objects.get()
    assert (note.invoice_id, note.amount, note.refund_to) == (invoice.pk, Decimal("7.50"), CARD)
    assert (note.reason, note.memo, note.created_by) == ("other", "Refunded in Stripe", "stripe")
    assert (note.card_refund.refund_id, note.card_refund.status) == (made.id, Status.SUCCEEDED)
    assert len(stripe.creates("/v1/refunds")) == 1  # ours asked nothing of Stripe


def test_a_refund_naming_another_tenants_credit_note_leaves_that_tenant_alone(stripe, tenant_alpha, tenant_beta,
                                                                              deliver):
    beta_invoice = paid_by_card(stripe, tenant_beta)
    beta_refund = CardRefund.objects.get(credit_note=to_card(beta_invoice, "10.00"))  # pending, not asked yet
    alpha_invoice = paid_by_card(stripe, tenant_alpha)
    stripe_api.refund_create(payment_intent_id=alpha_invoice.payments.get().payment_intent_id,
                             amount=usd("10.00"), idempotency_key="crafted",
                             metadata={"credit_note_id": str(beta_refund.credit_note_id),
                                       "tenant_id": str(tenant_beta.pk)})

    deliver(stripe.event("charge.refunded", charge_of(stripe, alpha_invoice)))

    beta_refund.refresh_from_db()
    assert (beta_refund.status, beta_refund.refund_id) == (Status.PENDING, None)
    # What went back went back on alpha's own charge: it is alpha's invoice that shows it.
    assert CreditNote.objects.get(invoice=alpha_invoice).card_refund.status == Status.SUCCEEDED


def test_a_refund_that_fails_leaves_the_tenant_whole(stripe, tenant_alpha, deliver, run_on_commit):
    ops = OpsUserFactory()
    invoice = paid_by_card(stripe, tenant_alpha)
    with run_on_commit():
        note = to_card(invoice, "10.00")
    refund_id = CardRefund.objects.get(credit_note=note).refund_id
    stripe.refund_fail(refund_id)

    deliver(stripe.event("refund.failed", refund_id))
    deliver(stripe.event("refund.updated", refund_id))

    card_refund = CardRefund.objects.get(credit_note=note)
    assert (card_refund.status, card_refund.failure_reason) == (Status.FAILED, "expired_or_canceled_card")
    assert credit_balance(tenant_alpha) == Decimal("10.00")
    assert StripeSettlement.objects.filter(kind=Kind.REFUND_FAILED, stripe_id=refund_id).count() == 1
    assert Notification.objects.filter(recipient=ops, category=Category.PAYMENT_ALERT).count() == 1


def test_a_late_charge_refunded_after_the_refund_failed_keeps_it_failed(stripe, tenant_alpha, deliver,
                                                                        run_on_commit):
    invoice = paid_by_card(stripe, tenant_alpha)
    with run_on_commit():
        note = to_card(invoice, "10.00")
    refund_id = CardRefund.objects.get(credit_note=note).refund_id
    stale = stripe.event("charge.refunded", charge_of(stripe, invoice))
    stripe.refund_fail(refund_id)
    deliver(stripe.event("refund.failed", refund_id))

    deliver(stale)

    assert CardRefund.objects.get(credit_note=note).status == Status.FAILED
    assert credit_balance(tenant_alpha) == Decimal("10.00")
    assert CreditNote.objects.count() == 1


def test_a_refund_stripe_refuses_goes_to_the_account_credit(stripe, tenant_alpha, run_on_commit):
    invoice = paid_by_card(stripe, tenant_alpha)
    stripe.fail_next(status=400, path="/v1/refunds")

    with run_on_commit():
        note = to_card(invoice, "10.00")

    assert CardRefund.objects.get(credit_note=note).status == Status.FAILED
    assert credit_balance(tenant_alpha) == Decimal("10.00")


def test_a_refund_of_a_payment_not_ours_is_ignored(stripe, tenant_alpha, deliver):
    card = card_on_file(stripe, tenant_alpha)
    intent = stripe_api.payment_intent_charge_off_session(
        customer_id=card["customer"], payment_method_id=card["id"], amount=usd("5.00"), description="elsewhere",
        metadata={}, idempotency_key="not-ours")
    stripe_api.refund_create(payment_intent_id=intent.id, amount=usd("5.00"), metadata={}, idempotency_key="r")

    deliver(stripe.event("charge.refunded", intent.latest_charge_id))

    assert not CreditNote.objects.exists()
    assert not StripeSettlement.objects.filter(kind=Kind.REFUND_RECORDED).exists()


@pytest.mark.parametrize("event_type", ["charge.refunded", "refund.updated", "refund.failed"])
def test_a_badly_signed_refund_event_is_refused_and_changes_nothing(stripe, tenant_alpha, deliver, event_type):
    invoice = paid_by_card(stripe, tenant_alpha)
    made = stripe_api.refund_create(payment_intent_id=invoice.payments.get().payment_intent_id,
                                    amount=usd("10.00"), metadata={}, idempotency_key="dashboard-1")
    subject = made.charge_id if event_type == "charge.refunded" else made.id

    deliver(stripe.event(event_type, subject), secret="whsec_notOurs", expect=400)

    assert not CreditNote.objects.exists()


# --- Token packs ----------------------------------------------------------------------------------------------------

def token_pack_paid_by_card(stripe, tenant) -> Invoice:
    order = token_pack_purchase(tenant=tenant, pack=TokenPack.objects.get(code="tokens-1m"), actor="owner",
                                now=NOW)
    invoice = order.invoice
    card = card_on_file(stripe, tenant)
    intent = stripe_api.payment_intent_charge_off_session(
        customer_id=card["customer"], payment_method_id=card["id"], amount=usd(str(invoice.amount_due)),
        description="Tokens", idempotency_key="pack", metadata={
            "tenant_id": str(tenant.pk), "tenant_slug": tenant.slug, "invoice_id": str(invoice.pk),
            "invoice_number": invoice.number, "source": "checkout"})
    from billing.payments.services import payment_intent_apply

    payment_intent_apply(intent=intent, now=NOW)
    return Invoice.objects.get(pk=invoice.pk)


def test_a_card_refund_of_a_token_pack_takes_its_tokens_back(stripe, tenant_alpha, run_on_commit):
    from metering.wallets.services import wallet_ensure

    invoice = token_pack_paid_by_card(stripe, tenant_alpha)
    assert wallet_ensure(tenant=tenant_alpha).balance == 1_000_000

    with run_on_commit():
        to_card(invoice, "50.00")

    assert wallet_ensure(tenant=tenant_alpha).balance == 500_000
    assert CardRefund.objects.get().status == Status.SUCCEEDED


def test_a_card_refund_of_used_tokens_is_refused(stripe, tenant_alpha):
    invoice = token_pack_paid_by_card(stripe, tenant_alpha)
    wallet_debit(tenant=tenant_alpha, tokens=900_000, feature="ai_api", reason="used", idempotency_key="used-1")

    with pytest.raises(TokenPackCreditRefused):
        to_card(invoice, "50.00")

    assert not CardRefund.objects.exists()
    assert stripe.creates("/v1/refunds") == []


def test_the_invoice_page_says_what_went_back_to_the_card(stripe, tenant_alpha, run_on_commit, alpha_owner_client):
    invoice = paid_by_card(stripe, tenant_alpha)
    with run_on_commit():
        note = to_card(invoice, "10.00")

    page = alpha_owner_client.get(f"/billing/invoices/{invoice.number}/").content.decode()

    assert f"{note.number}: 10.00 USD refunded to card" in page


# --- Ops admin --------------------------------------------------------------------------------------------------------

@pytest.fixture
def ops_client(public_client):
    public_client.force_login(OpsUserFactory())
    return public_client


def test_ops_send_a_credit_note_back_to_the_card_from_the_invoice_admin(stripe, tenant_alpha, ops_client,
                                                                       run_on_commit):
    invoice = paid_by_card(stripe, tenant_alpha)

    with run_on_commit():
        response = ops_client.post(f"/admin/billing/invoice/{invoice.pk}/credit-note/",
                                   {"amount": "10.00", "reason": "duplicate", "memo": "", "refund_to": "card"})

    assert response.status_code == 302
    assert CardRefund.objects.get().status == Status.SUCCEEDED
    assert credit_balance(tenant_alpha) == 0


def test_the_credit_note_form_offers_the_card_only_when_a_card_paid_the_invoice(stripe, tenant_alpha, ops_client):
    paid = paid_by_card(stripe, tenant_alpha)
    unpaid = stripe_invoice(tenant_alpha, "30.00")

    offered = ops_client.get(f"/admin/billing/invoice/{paid.pk}/credit-note/").content.decode()
    not_offered = ops_client.get(f"/admin/billing/invoice/{unpaid.pk}/credit-note/").content.decode()

    assert 'value="card"' in offered
    assert 'value="card"' not in not_offered


def test_ops_list_card_refunds_read_only(stripe, tenant_alpha, ops_client, run_on_commit):
    invoice = paid_by_card(stripe, tenant_alpha)
    with run_on_commit():
        to_card(invoice, "10.00")
    refund = CardRefund.objects.get()

    listing = ops_client.get("/admin/billing/cardrefund/?status=succeeded")
    detail = ops_client.get(f"/admin/billing/cardrefund/{refund.pk}/change/")

    assert listing.status_code == 200 and refund.refund_id in listing.content.decode()
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
    assert ops_client.get("/admin/billing/cardrefund/add/").status_code == 403


def test_two_card_refunds_racing_for_what_the_card_has_left_refund_it_once(stripe, committed_db):
    from djstripe.models import Customer

    from tests.support.concurrency import run_together
    from tests.support.factories import TenantFactory

    tenant = TenantFactory()
    try:
        # 10.00 of the 25.00 invoice came from account credit: the card brought 15.00, and two 10.00 notes race.
        account_credit_add(tenant=tenant, amount=usd("10.00"), kind=AccountCreditEntry.Kind.PROMOTION,
                           description="Welcome", actor="ops", now=NOW)
        invoice = paid_by_card(stripe, tenant)

        outcomes = run_together(lambda: to_card(invoice, "10.00"), lambda: to_card(invoice, "10.00"))

        assert sorted(type(outcome).__name__ for outcome in outcomes) == ["CardRefundNotPossible", "CreditNote"]
        assert sum(r["amount"] for r in stripe.of_type("refund")) == 1000
        assert CardRefund.objects.filter(invoice=invoice).count() == 1
    finally:
        Customer.objects.filter(subscriber=tenant).delete()


def test_ops_ask_stripe_again_for_a_refund_whose_task_was_lost(stripe, tenant_alpha, ops_client):
    invoice = paid_by_card(stripe, tenant_alpha)
    refund = CardRefund.objects.get(credit_note=to_card(invoice, "10.00"))  # committed, its task never ran

    ops_client.post("/admin/billing/cardrefund/", {"action": "request_again", "_selected_action": [refund.pk]})
    ops_client.post("/admin/billing/cardrefund/", {"action": "request_again", "_selected_action": [refund.pk]})

    assert CardRefund.objects.get(pk=refund.pk).status == Status.SUCCEEDED
    assert len(stripe.of_type("refund")) == 1
