"""Credit notes that go back to the card, through Stripe refunds, settled exactly once.

A credit note issued with refund_to=card (billing.invoicing.services.credit_note_issue) records a pending
CardRefund in its own transaction; once that commits, a task asks Stripe for the refund with the Idempotency-Key
`credit-note-<id>-refund`, so a task retried after a crash reaches Stripe's one Refund. Whatever tells us where the
refund stands, the answer to that request or charge.refunded / refund.updated / refund.failed, goes through
`card_refund_apply`, which reads Stripe's own view of the refund and settles it once per re_ (StripeSettlement
REFUND_RECORDED on success, REFUND_FAILED on failure):

- succeeded: the card refund is done; the credit note never touched the account credit;
- failed or canceled (or refused by Stripe outright): the credit note's amount goes to the tenant's account
  credit instead, so the tenant never loses it, and ops are told;
- a refund made in Stripe's dashboard on a charge of ours (no card refund of ours for it): a credit note with
  refund_to=card is issued for it ("Refunded in Stripe", by "stripe"), so the invoice's credited amount always
  equals what went back.

A refund is matched to our card refund by its re_ id, or (when its webhook comes before Stripe's answer was
recorded) by the credit note its metadata names, and only when that card refund is on the very payment Stripe
refunded: metadata naming another tenant's credit note matches nothing of theirs."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from celery import current_app
from django.db import transaction
from django.db.models import Sum

from billing.errors import BillingError
from billing.invoicing.credit import account_credit_add
from billing.invoicing.services import credit_note_issue
from billing.models import AccountCreditEntry, CardRefund, CreditNote, Dispute, Invoice, Payment, StripeSettlement
from billing.payments import stripe_api
from billing.payments.errors import CardRefundNotPossible, PaymentProviderUnavailable
from billing.payments.services import ACTOR, invoice_metadata, settlement_record
from billing.payments.stripe_api import StripeRefund
from config.money import Money, money_format, money_round, money_to_api
from notifications.categories import Category
from notifications.services import notify_ops

logger = logging.getLogger(__name__)

Status = CardRefund.Status
Kind = StripeSettlement.Kind
# Refunds that still give money back (a failed or canceled one returned its amount to the account credit).
HOLDING = (Status.PENDING, Status.SUCCEEDED)
FAILED_STATES = {"failed": Status.FAILED, "canceled": Status.CANCELED}
REQUEST_TASK = "billing.card_refund_request"
EXTERNAL_MEMO = "Refunded in Stripe"
WON_OR_CLOSED_IN_OUR_FAVOUR = (Dispute.Status.WON, Dispute.Status.WARNING_CLOSED)


def card_refund_idempotency_key(card_refund: CardRefund) -> str:
    return f"credit-note-{card_refund.credit_note_id}-refund"


def card_payment_of(invoice: Invoice) -> Payment | None:
    """The card payment that paid the invoice (the one whose PaymentIntent settled it), if one did."""
    settled = StripeSettlement.objects.filter(kind=Kind.INVOICE_PAID, invoice_id=invoice.pk,
                                              payment__status=Payment.Status.SUCCEEDED).select_related("payment")
    found = settled.first()
    return found.payment if found else None


def card_refundable(payment: Payment) -> Money:
    """What the payment can still give back to its card: what it brought, less the card refunds that hold."""
    taken = CardRefund.objects.filter(payment=payment, status__in=HOLDING).aggregate(total=Sum("amount"))["total"]
    return money_round(Money(max(payment.amount - (taken or Decimal(0)), Decimal(0)), payment.currency))


def card_refund_payment(*, invoice: Invoice, amount: Money, stripe_refund_id: str = "") -> Payment:
    """The payment a card refund of `amount` on the (locked) invoice goes back to; CardRefundNotPossible when
    the invoice was not paid by card, its payment is disputed (or the dispute was lost) or it has less left. A
    refund Stripe already made (`stripe_refund_id`) is not checked again: Stripe only refunds what it can."""
    payment = card_payment_of(invoice)
    if payment is None:
        raise CardRefundNotPossible(f"Invoice {invoice.number} was not paid by card: credit it to the account.",
                                    field="refund_to")
    if stripe_refund_id:
        return payment
    if Dispute.objects.filter(payment=payment).exclude(status__in=WON_OR_CLOSED_IN_OUR_FAVOUR).exists():
        # The bank decides where a disputed payment's money goes: a refund now could pay the cardholder twice.
        raise CardRefundNotPossible(f"The card payment of invoice {invoice.number} is disputed (or the dispute was "
                                    "lost): it cannot be refunded to the card.", field="refund_to")
    refundable = card_refundable(payment)
    if amount > refundable:
        raise CardRefundNotPossible(
            f"The card that paid invoice {invoice.number} can get back {money_format(refundable)} at most.",
            field="amount", details={"refundable": money_to_api(refundable)})
    return payment


def card_refund_open(*, credit_note: CreditNote, payment: Payment, stripe_refund_id: str,
                     now: datetime) -> CardRefund:
    """Record the credit note's card refund, inside the transaction that issues it. A new one is pending and
    Stripe is asked once the transaction commits; one Stripe already made (`stripe_refund_id`) is recorded
    succeeded."""
    done = bool(stripe_refund_id)
    card_refund = CardRefund.objects.create(
        tenant_id=credit_note.tenant_id, credit_note=credit_note, invoice_id=credit_note.invoice_id, payment=payment,
        refund_id=stripe_refund_id or None, amount=credit_note.amount, currency=credit_note.currency,
        status=Status.SUCCEEDED if done else Status.PENDING, created_at=now, settled_at=now if done else None)
    if not done:
        kwargs = {"card_refund_id": card_refund.pk}
        # By name: the task module imports this one. Robust: the credit note stands whatever the broker does.
        transaction.on_commit(lambda: current_app.signature(REQUEST_TASK, kwargs=kwargs).delay(), robust=True)
    return card_refund


def card_refund_request(*, card_refund_id: int, now: datetime) -> CardRefund:
    """Ask Stripe for a pending card refund and apply its answer. Asking again (a retried task) reaches the
    same Refund through the idempotency key, and a card refund already asked or settled is left as it is.

    Stripe refusing the refund (the charge was disputed or already refunded elsewhere, say) fails it: its amount
    goes to the account credit. Stripe unreachable raises PaymentProviderUnavailable with nothing changed."""
    card_refund = CardRefund.objects.select_related("payment", "invoice__tenant", "credit_note").get(
        pk=card_refund_id)
    if card_refund.status != Status.PENDING or card_refund.refund_id:
        return card_refund
    try:
        answer = stripe_api.refund_create(
            payment_intent_id=card_refund.payment.payment_intent_id,
            amount=Money(card_refund.amount, card_refund.currency), metadata=card_refund_metadata(card_refund),
            idempotency_key=card_refund_idempotency_key(card_refund))
    except PaymentProviderUnavailable:
        raise
    except BillingError as error:
        with transaction.atomic():
            locked = CardRefund.objects.select_for_update().get(pk=card_refund.pk)
            if locked.status == Status.PENDING:
                _card_refund_failed(locked, status=Status.FAILED, stripe_id=card_refund_idempotency_key(locked),
                                    reason=error.code, event_id="", now=now)
        card_refund.refresh_from_db()
        return card_refund
    return card_refund_apply(refund=answer, now=now) or card_refund


def card_refund_metadata(card_refund: CardRefund) -> dict[str, str]:
    return {**invoice_metadata(card_refund.invoice), "credit_note_id": str(card_refund.credit_note_id),
            "credit_note_number": card_refund.credit_note.number}


@transaction.atomic
def card_refund_apply(*, refund: StripeRefund, now: datetime, event_id: str = "") -> CardRefund | None:
    """Bring our records to where Stripe's Refund stands (Stripe's view: the answer to our request or a fresh
    retrieve, never a webhook's body) and return its card refund; None for a refund of a payment not ours, one
    still pending that we did not ask for, or one that could not be recorded (ops are told).

    Safe to call any number of times, in any order: the card refund row is locked and each settlement is keyed by
    the refund's id."""
    payment = Payment.objects.filter(payment_intent_id=refund.payment_intent_id).first() \
        if refund.payment_intent_id else None
    if payment is None:
        logger.info("stripe_refund_not_ours refund=%s payment_intent=%s", refund.id, refund.payment_intent_id)
        return None
    card_refund = _card_refund_for(refund, payment=payment)
    if card_refund is None:
        return _external_refund_record(refund, payment=payment, event_id=event_id, now=now)
    if card_refund.refund_id is None:
        card_refund.refund_id = refund.id
        card_refund.save(update_fields=["refund_id"])
    if refund.status == "succeeded" and card_refund.status == Status.PENDING:
        if settlement_record(kind=Kind.REFUND_RECORDED, stripe_id=refund.id, tenant_id=card_refund.tenant_id,
                             invoice_id=card_refund.invoice_id, payment=payment, amount=refund.amount,
                             event_id=event_id, now=now, detail={"charge": refund.charge_id or ""}):
            card_refund.status, card_refund.settled_at = Status.SUCCEEDED, now
            card_refund.save(update_fields=["status", "settled_at"])
            logger.info("card_refund_succeeded credit_note=%s refund=%s", card_refund.credit_note_id, refund.id)
    elif refund.status in FAILED_STATES and card_refund.status in HOLDING:
        _card_refund_failed(card_refund, status=FAILED_STATES[refund.status], stripe_id=refund.id,
                            reason=refund.failure_reason or refund.status, event_id=event_id, now=now)
    return card_refund


def card_refunds_apply(*, charge_id: str, event_id: str, now: datetime) -> int:
    """Apply every refund of a charge (charge.refunded lists none of them itself); returns how many are ours."""
    return sum(card_refund_apply(refund=refund, event_id=event_id, now=now) is not None
               for refund in stripe_api.refund_list(charge_id=charge_id))


def _card_refund_for(refund: StripeRefund, *, payment: Payment) -> CardRefund | None:
    locked = CardRefund.objects.select_for_update().select_related("credit_note", "invoice__tenant")
    found = locked.filter(refund_id=refund.id).first()
    if found is not None:
        return found
    credit_note_id = refund.metadata.get("credit_note_id") or ""
    if not credit_note_id.isdigit():
        return None
    return locked.filter(credit_note_id=int(credit_note_id), payment=payment, refund_id__isnull=True).first()


def _card_refund_failed(card_refund: CardRefund, *, status: str, stripe_id: str, reason: str, event_id: str,
                        now: datetime) -> None:
    """The money did not go back to the card: it goes to the account credit, once, and ops hear of it."""
    if not settlement_record(kind=Kind.REFUND_FAILED, stripe_id=stripe_id, tenant_id=card_refund.tenant_id,
                             invoice_id=card_refund.invoice_id, payment=card_refund.payment,
                             amount=Money(card_refund.amount, card_refund.currency), event_id=event_id, now=now,
                             detail={"reason": reason}):
        return
    card_refund.status, card_refund.failure_reason, card_refund.settled_at = status, reason[:255], now
    card_refund.save(update_fields=["status", "failure_reason", "settled_at"])
    credit_note, invoice = card_refund.credit_note, card_refund.invoice
    amount = Money(card_refund.amount, card_refund.currency)
    account_credit_add(tenant=invoice.tenant, amount=amount, kind=AccountCreditEntry.Kind.CREDIT_NOTE,
                       description=f"Credit note {credit_note.number} for invoice {invoice.number} (the refund to "
                                   "the card failed)", actor=ACTOR, now=now, credit_note=credit_note)
    notify_ops(category=Category.PAYMENT_ALERT, cause=f"refund_failed:{stripe_id}",
               title=f"Refund to the card failed: {money_format(amount)} for {invoice.tenant.name}",
               body=f"Credit note {credit_note.number} (invoice {invoice.number}) could not go back to the card "
                    f"({reason}). Its amount was added to the tenant's account credit instead.",
               link=f"/admin/billing/cardrefund/{card_refund.pk}/change/", now=now)
    logger.warning("card_refund_failed credit_note=%s refund=%s reason=%s", credit_note.number, stripe_id, reason)


def _external_refund_record(refund: StripeRefund, *, payment: Payment, event_id: str,
                            now: datetime) -> CardRefund | None:
    """A refund someone made in Stripe's dashboard on one of our charges: record it as a credit note to the card,
    once. A pending one waits for the event that says it succeeded; a failed one gave nothing back."""
    if refund.status != "succeeded":
        return None
    if not settlement_record(kind=Kind.REFUND_RECORDED, stripe_id=refund.id, tenant_id=payment.tenant_id,
                             invoice_id=payment.invoice_id, payment=payment, amount=refund.amount,
                             event_id=event_id, now=now,
                             detail={"charge": refund.charge_id or "", "source": "stripe_dashboard"}):
        return CardRefund.objects.filter(refund_id=refund.id).first()
    invoice = Invoice.objects.select_related("tenant").get(pk=payment.invoice_id)
    paid_by = card_payment_of(invoice)
    try:
        if paid_by is None or paid_by.pk != payment.pk:
            raise CardRefundNotPossible("The refunded payment is not the one that paid the invoice.")
        with transaction.atomic():
            credit_note = credit_note_issue(invoice=invoice, amount=refund.amount, reason=CreditNote.Reason.OTHER,
                                            memo=EXTERNAL_MEMO, actor=ACTOR, now=now,
                                            refund_to=CreditNote.RefundTo.CARD, stripe_refund_id=refund.id)
    except BillingError as error:
        # The money went back all the same: the books cannot show it as a credit note (more than the invoice
        # can still be credited, tokens already used...). Ops decide.
        StripeSettlement.objects.filter(kind=Kind.REFUND_RECORDED, stripe_id=refund.id).update(
            detail={"charge": refund.charge_id or "", "source": "stripe_dashboard", "unrecorded": error.code})
        notify_ops(category=Category.PAYMENT_ALERT, cause=f"refund_unrecorded:{refund.id}",
                   title=f"A refund made in Stripe has no credit note: {money_format(refund.amount)}",
                   body=f"Refund {refund.id} on invoice {invoice.number} ({invoice.tenant.name}) could not be "
                        f"recorded as a credit note: {error}", link=f"/admin/billing/invoice/{invoice.pk}/change/",
                   now=now)
        logger.warning("stripe_refund_unrecorded refund=%s invoice=%s reason=%s", refund.id, invoice.number,
                       error.code)
        return None
    logger.info("stripe_refund_recorded refund=%s credit_note=%s", refund.id, credit_note.number)
    return credit_note.card_refund
