"""Collecting Tollgate's invoices through Stripe, and settling what Stripe reports, exactly once.

Tollgate's invoice is the source of truth: Stripe is asked to collect its amount due with one PaymentIntent per
attempt, and the invoice is settled by billing's invoicing service when Stripe says the money arrived. Whichever
comes first, the answer to our charge or the webhook, brings our records to where Stripe's PaymentIntent stands
(`payment_intent_apply`); the ledger (StripeSettlement, unique per kind and Stripe object id) makes each
settlement happen once, and the invoice row lock makes two deliveries at once act one after the other.

Money that arrives but cannot settle the invoice it names (less than due, another currency, another tenant's
customer, an invoice already paid or void) is recorded as unmatched for ops and never marks anything paid.
Declines leave the invoice open and send payment_failed; a bank that wants the cardholder leaves it open with a
hosted Checkout page for the invoice (payment_action_required)."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from djstripe.models import Customer as StripeCustomerRecord
from djstripe.models import PaymentMethod as StripePaymentMethodRecord

from billing.errors import InvoiceStateInvalid
from billing.invoicing.services import invoice_mark_paid
from billing.models import BillingProfile, Invoice, Payment, StripeSettlement
from billing.payments import stripe_api
from billing.payments.errors import CardDeclined
from billing.payments.events import (
    payment_action_required,
    payment_event_send_on_commit,
    payment_failed,
    payment_method_changed,
)
from billing.payments.stripe_api import StripeCheckoutSession, StripePaymentIntent
from config.money import Money, money_round, money_to_api
from tenants.models import Tenant
from tenants.urls_for import tenant_url

logger = logging.getLogger(__name__)

ACTOR = "stripe"
STRIPE_COLLECTION = "stripe"
Status = Payment.Status
Kind = StripeSettlement.Kind
# dj-stripe links a Stripe customer to its subscriber (the tenant) through this metadata key.
SUBSCRIBER_KEY = "djstripe_subscriber"
SETTLEABLE = (Invoice.Status.OPEN, Invoice.Status.UNCOLLECTIBLE)


# --- Customers and cards -----------------------------------------------------------------------------------

def stripe_customer_ensure(*, tenant: Tenant) -> StripeCustomerRecord:
    """The tenant's Stripe customer (dj-stripe's row, its subscriber the tenant), created on the tenant's first
    paid action with its billing details: the billing profile's legal name, email and address, else the
    workspace's name and billing (or owner) email.

    Idempotent: the tenant row is locked while the customer is looked for and created, so two first actions at
    once make one customer, and the Idempotency-Key tenant-<id>-customer makes a retried create (after a crash
    between Stripe's answer and our commit) reach the customer Stripe already made."""
    existing = _customer_of(tenant)
    if existing is not None:
        return existing
    with transaction.atomic():
        Tenant.objects.select_for_update().only("pk").get(pk=tenant.pk)
        existing = _customer_of(tenant)
        if existing is not None:
            return existing
        profile = BillingProfile.objects.filter(tenant=tenant).first()
        created = stripe_api.customer_create(
            email=(profile.email if profile else "") or tenant.email,
            name=(profile.legal_name if profile else "") or tenant.name, address=_address(profile),
            metadata={**_tenant_metadata(tenant), SUBSCRIBER_KEY: str(tenant.pk)},
            idempotency_key=f"tenant-{tenant.pk}-customer")
        customer, _ = StripeCustomerRecord.objects.get_or_create(
            id=created.id, defaults={"subscriber": tenant, "livemode": created.livemode, "email": created.email,
                                     "metadata": created.metadata})
    logger.info("stripe_customer_created tenant=%s customer=%s", tenant.pk, customer.id)
    return customer


def card_setup_checkout_create(*, tenant: Tenant, success_url: str, cancel_url: str) -> StripeCheckoutSession:
    """A Stripe Checkout page (setup mode) where the tenant saves a card; once it completes, the
    checkout.session.completed webhook makes that card the customer's default (card_setup_complete)."""
    customer = stripe_customer_ensure(tenant=tenant)
    return stripe_api.checkout_setup_session_create(
        customer_id=customer.id, success_url=success_url, cancel_url=cancel_url,
        metadata={**_tenant_metadata(tenant), "purpose": "card_setup"},
        # Each visit is a new page; the key only makes the SDK's own retries of this request safe.
        idempotency_key=f"tenant-{tenant.pk}-card-setup-{uuid.uuid4().hex}")


def billing_portal_url_create(*, tenant: Tenant, return_url: str) -> str:
    """A link to Stripe's customer portal, where the tenant manages its cards."""
    customer = stripe_customer_ensure(tenant=tenant)
    return stripe_api.billing_portal_session_create(customer_id=customer.id, return_url=return_url).url


def card_setup_complete(*, session: StripeCheckoutSession, event_id: str, now: datetime) -> bool:
    """Make the card a completed setup-mode Checkout saved the customer's default, once per Checkout session.
    Ignored (False) for a session that is not a completed card setup of a tenant's own customer."""
    if session.mode != "setup" or session.status != "complete" or not session.setup_intent_id:
        return False
    tenant_id = tenant_id_for_customer(session.customer_id)
    if tenant_id is None or session.metadata.get("tenant_id") != str(tenant_id):
        logger.warning("stripe_card_setup_ignored session=%s customer=%s reason=tenant_mismatch", session.id,
                       session.customer_id)
        return False
    setup = stripe_api.setup_intent_retrieve(session.setup_intent_id)
    if setup.status != "succeeded" or not setup.payment_method_id or setup.customer_id != session.customer_id:
        return False
    with transaction.atomic():
        if not settlement_record(kind=Kind.CARD_SAVED, stripe_id=session.id, tenant_id=tenant_id,
                                  event_id=event_id, now=now, detail={"payment_method": setup.payment_method_id}):
            return False
        _default_payment_method_set(customer_id=session.customer_id, payment_method_id=setup.payment_method_id,
                                    idempotency_key=f"{session.id}-default-payment-method")
        # Dunning hears of the new card now, not only when Stripe's customer.updated arrives (it retries once per
        # card, so hearing twice changes nothing).
        customer_default_changed(customer_id=session.customer_id)
    logger.info("stripe_card_saved tenant=%s session=%s", tenant_id, session.id)
    return True


def payment_method_attached(*, payment_method_id: str, customer_id: str | None, event_id: str,
                            now: datetime) -> bool:
    """A card attached to a tenant's customer with no default card (through the portal, say) becomes its
    default, once per card. Returns whether it did."""
    tenant_id = tenant_id_for_customer(customer_id)
    if tenant_id is None:
        return False
    if stripe_api.customer_retrieve(customer_id).default_payment_method_id:
        return False
    with transaction.atomic():
        if not settlement_record(kind=Kind.DEFAULT_SET, stripe_id=payment_method_id, tenant_id=tenant_id,
                                  event_id=event_id, now=now):
            return False
        _default_payment_method_set(customer_id=customer_id, payment_method_id=payment_method_id,
                                    idempotency_key=f"{payment_method_id}-default-payment-method")
        customer_default_changed(customer_id=customer_id)
    return True


def customer_default_changed(*, customer_id: str) -> None:
    """Tell the platform (dunning) that a tenant's default card changed, once the transaction commits."""
    tenant_id = tenant_id_for_customer(customer_id)
    if tenant_id is not None:
        transaction.on_commit(lambda: payment_method_changed.send(sender=Tenant, tenant_id=tenant_id))


# --- Charging invoices ---------------------------------------------------------------------------------------

def invoice_charge_idempotency_key(invoice: Invoice, attempt: int) -> str:
    return f"invoice-{invoice.pk}-attempt-{attempt}"


def invoice_charge(*, invoice: Invoice, attempt: int, now: datetime) -> Payment:
    """Charge an open invoice collected by Stripe, off-session, on the tenant's default card: attempt `attempt`.

    Charges at most once per (invoice, attempt): an attempt already recorded is returned as it is, and the
    PaymentIntent is created with the Idempotency-Key invoice-<id>-attempt-<n>, so a task retried after a crash
    (Stripe charged, we never recorded it) gets Stripe's same PaymentIntent back instead of a second charge.
    Success settles the invoice paid (once, whether this answer or the webhook comes first); a decline records the
    failure and sends payment_failed; a bank that wants the cardholder leaves the invoice open with a hosted
    Checkout page to pay it (payment_action_required). No card on file is a failed attempt too.

    Refused (InvoiceStateInvalid) for an invoice that is not open or is collected manually. Stripe being
    unreachable raises PaymentProviderUnavailable with nothing recorded: retry the same attempt."""
    existing = Payment.objects.filter(invoice_id=invoice.pk, attempt=attempt).first()
    if existing is not None:
        # A run that stopped before the hosted page was made leaves it to this one.
        needs_page = existing.status == Status.REQUIRES_ACTION and not existing.action_url
        return payment_action_url_ensure(payment=existing) if needs_page else existing
    invoice = Invoice.objects.select_related("tenant").get(pk=invoice.pk)
    if invoice.collection_method != STRIPE_COLLECTION:
        raise InvoiceStateInvalid(f"Invoice {invoice} is collected manually, not by Stripe.",
                                  details={"collection_method": invoice.collection_method})
    if invoice.status != Invoice.Status.OPEN:
        raise InvoiceStateInvalid(f"Invoice {invoice} is {invoice.status}: there is nothing to charge.",
                                  details={"status": invoice.status})
    amount = money_round(Money(invoice.amount_due, invoice.currency))
    customer = stripe_customer_ensure(tenant=invoice.tenant)
    card = stripe_api.customer_retrieve(customer.id).default_payment_method_id
    if card is None:
        return _attempt_failed_before_stripe(invoice=invoice, attempt=attempt, amount=amount, now=now,
                                             code="payment_method_missing",
                                             message="There is no card on file to charge.")
    try:
        intent = stripe_api.payment_intent_charge_off_session(
            customer_id=customer.id, payment_method_id=card, amount=amount, description=f"Invoice {invoice.number}",
            metadata={**invoice_metadata(invoice), "attempt": str(attempt), "source": Payment.Source.OFF_SESSION},
            idempotency_key=invoice_charge_idempotency_key(invoice, attempt))
    except CardDeclined as declined:  # CardAuthenticationRequired too: the intent says which
        if declined.payment_intent is None:
            return _attempt_failed_before_stripe(invoice=invoice, attempt=attempt, amount=amount, now=now,
                                                 code=declined.decline_code, message=declined.message)
        intent = declined.payment_intent
    payment = payment_intent_apply(intent=intent, now=now)
    if payment is None:  # not possible for our own metadata; kept loud rather than silent
        raise InvoiceStateInvalid(f"Stripe's PaymentIntent {intent.id} does not match invoice {invoice}.")
    if payment.status == Status.REQUIRES_ACTION:
        payment = payment_action_url_ensure(payment=payment)
    return payment


def payment_action_url_ensure(*, payment: Payment) -> Payment:
    """Give a payment that waits for the cardholder a hosted Checkout page (payment mode) for its invoice, where
    they pay the amount due, authenticating as their bank asks, and save the card. Once per payment:
    payment_action_required is sent when the link is first stored. (Stripe expires the page after 24 hours;
    dunning asks for a new one.)

    A payment made on a hosted Checkout page (Pay now, or an earlier page) gets none: the cardholder is on that
    page, which asks for the authentication itself."""
    if payment.action_url or payment.source == Payment.Source.CHECKOUT:
        return payment
    invoice = Invoice.objects.select_related("tenant").get(pk=payment.invoice_id)
    customer = stripe_customer_ensure(tenant=invoice.tenant)
    invoice_path = f"/billing/invoices/{invoice.number}/"
    session = stripe_api.checkout_payment_session_create(
        customer_id=customer.id, amount=money_round(Money(invoice.amount_due, invoice.currency)),
        description=f"Invoice {invoice.number}", success_url=tenant_url(invoice.tenant, f"{invoice_path}?paid=1"),
        cancel_url=tenant_url(invoice.tenant, invoice_path),
        metadata={**invoice_metadata(invoice), "source": Payment.Source.CHECKOUT},
        idempotency_key=f"{invoice_charge_idempotency_key(invoice, payment.attempt)}-checkout")
    with transaction.atomic():
        stored = Payment.objects.filter(pk=payment.pk, action_url="").update(action_url=session.url or "")
        payment.refresh_from_db()
        if stored:
            payment_event_send_on_commit(payment_action_required, payment=payment)
    return payment


# No savepoint of its own: a webhook calls it inside dj-stripe's transaction, which any error here rolls back whole
# (and no caller catches its errors inside a transaction it goes on using).
@transaction.atomic(savepoint=False)
def payment_intent_apply(*, intent: StripePaymentIntent, now: datetime, event_id: str = "") -> Payment | None:
    """Bring our records to where Stripe's PaymentIntent stands (Stripe's own view: the answer to our request or
    the object dj-stripe re-fetched for a webhook, never a webhook's unverified body), and return its Payment.

    The invoice is found by the Payment already recorded for the intent or, for an intent we have not recorded
    yet (its webhook came first, or the tenant paid on the hosted page), by the intent's metadata. An intent
    whose customer is not the invoice's tenant's settles nothing (None; recorded as unmatched if money moved).
    Safe to call any number of times, in any order: the invoice row is locked and each settlement is keyed by
    the intent's id."""
    invoice = _invoice_for_intent(intent, event_id=event_id, now=now)
    if invoice is None:
        return None
    payment = _payment_for_intent(intent, invoice=invoice, now=now)
    state = _intent_state(intent)
    if state == Status.SUCCEEDED:
        _payment_succeeded(payment, invoice=invoice, intent=intent, event_id=event_id, now=now)
    elif payment.status == Status.SUCCEEDED:
        pass  # a late event of an earlier state changes nothing once the money arrived
    elif state == Status.FAILED:
        _payment_failed(payment, intent=intent, event_id=event_id, now=now)
    elif state is not None and state != payment.status:
        payment.status = state
        payment.failure_code = intent.failure_code[:100]
        payment.failure_message = intent.failure_message[:500]
        payment.settled_at = now if state == Status.CANCELED else None
        payment.save(update_fields=["status", "failure_code", "failure_message", "settled_at"])
    return payment


# --- Settling a PaymentIntent ----------------------------------------------------------------------------------

def _intent_state(intent: StripePaymentIntent) -> str | None:
    """Our payment status for Stripe's PaymentIntent status (None: nothing to record yet)."""
    if intent.status == "succeeded":
        return Status.SUCCEEDED
    if intent.status == "processing":
        return Status.PROCESSING
    if intent.status == "canceled":
        return Status.CANCELED
    if intent.status in {"requires_action", "requires_confirmation"}:
        return Status.REQUIRES_ACTION
    if intent.status == "requires_payment_method" and intent.failure_code:
        # Off-session, a bank that wants the cardholder declines with authentication_required: the card still
        # works with them present, on the hosted page.
        return Status.REQUIRES_ACTION if intent.failure_code == stripe_api.AUTHENTICATION_REQUIRED else Status.FAILED
    return None


def _invoice_for_intent(intent: StripePaymentIntent, *, event_id: str, now: datetime) -> Invoice | None:
    recorded = Payment.objects.filter(payment_intent_id=intent.id).values_list("invoice_id", flat=True).first()
    invoice_id = recorded or _int_or_none(intent.metadata.get("invoice_id"))
    if invoice_id is None:
        logger.info("stripe_payment_intent_not_ours payment_intent=%s", intent.id)
        return None
    invoice = Invoice.objects.select_for_update().select_related("tenant").filter(pk=invoice_id).first()
    customer_tenant_id = tenant_id_for_customer(intent.customer_id)
    if invoice is None or customer_tenant_id != invoice.tenant_id \
            or intent.metadata.get("tenant_id") != str(invoice.tenant_id):
        logger.warning("stripe_payment_intent_mismatch payment_intent=%s invoice=%s customer_tenant=%s "
                       "metadata_tenant=%s", intent.id, invoice_id, customer_tenant_id,
                       intent.metadata.get("tenant_id"))
        if intent.status == "succeeded":
            settlement_record(kind=Kind.PAYMENT_UNMATCHED, stripe_id=intent.id, tenant_id=customer_tenant_id,
                               amount=intent.amount_received, event_id=event_id, now=now,
                               detail={"reason": "invoice_unknown" if invoice is None else "tenant_mismatch",
                                       "invoice_id": invoice_id})
        return None
    return invoice


def _payment_for_intent(intent: StripePaymentIntent, *, invoice: Invoice, now: datetime) -> Payment:
    payment = Payment.objects.select_for_update().filter(payment_intent_id=intent.id).first()
    if payment is not None:
        return payment
    source = Payment.Source.CHECKOUT if intent.metadata.get("source") == Payment.Source.CHECKOUT \
        else Payment.Source.OFF_SESSION
    attempt = _int_or_none(intent.metadata.get("attempt")) if source == Payment.Source.OFF_SESSION else None
    if attempt is None or attempt < 1 or Payment.objects.filter(invoice=invoice, attempt=attempt).exists():
        last = Payment.objects.filter(invoice=invoice).aggregate(last=Max("attempt"))["last"] or 0
        attempt = last + 1
    # Recorded as succeeded at once when it has (what _payment_succeeded would save next).
    succeeded = _intent_state(intent) == Status.SUCCEEDED
    return Payment.objects.create(
        tenant_id=invoice.tenant_id, invoice=invoice, attempt=attempt, source=source, payment_intent_id=intent.id,
        amount=intent.amount.amount, currency=intent.amount.currency,
        status=Status.SUCCEEDED if succeeded else Status.PROCESSING, created_at=now,
        settled_at=now if succeeded else None)


def _payment_succeeded(payment: Payment, *, invoice: Invoice, intent: StripePaymentIntent, event_id: str,
                       now: datetime) -> None:
    if payment.status != Status.SUCCEEDED:
        payment.status, payment.settled_at = Status.SUCCEEDED, now
        payment.failure_code = payment.failure_message = ""
        payment.save(update_fields=["status", "settled_at", "failure_code", "failure_message"])
    if StripeSettlement.objects.filter(kind__in=[Kind.INVOICE_PAID, Kind.PAYMENT_UNMATCHED],
                                       stripe_id=intent.id).exists():
        return
    due = money_round(Money(invoice.amount_due, invoice.currency))
    received = intent.amount_received
    if received.currency != due.currency:
        problem = "currency_mismatch"
    elif received < due:
        problem = "amount_short"
    elif invoice.status not in SETTLEABLE:
        problem = f"invoice_{invoice.status}"
    else:
        problem = None
    common = {"stripe_id": intent.id, "tenant_id": invoice.tenant_id, "invoice_id": invoice.pk, "payment": payment,
              "amount": received, "event_id": event_id, "now": now}
    if problem is not None:
        settlement_record(kind=Kind.PAYMENT_UNMATCHED, **common,
                           detail={"reason": problem, "due": money_to_api(due), "received": money_to_api(received)})
        logger.warning("stripe_payment_unmatched payment_intent=%s invoice=%s reason=%s", intent.id, invoice.number,
                       problem)
        return
    if settlement_record(kind=Kind.INVOICE_PAID, **common):
        invoice_mark_paid(invoice=invoice, actor=ACTOR, now=now)


def _payment_failed(payment: Payment, *, intent: StripePaymentIntent, event_id: str, now: datetime) -> None:
    payment.status, payment.settled_at = Status.FAILED, now
    payment.failure_code, payment.failure_message = intent.failure_code[:100], intent.failure_message[:500]
    payment.save(update_fields=["status", "settled_at", "failure_code", "failure_message"])
    if settlement_record(kind=Kind.PAYMENT_FAILED, stripe_id=intent.id, tenant_id=payment.tenant_id,
                          invoice_id=payment.invoice_id, payment=payment, amount=intent.amount, event_id=event_id,
                          now=now, detail={"code": payment.failure_code}):
        payment_event_send_on_commit(payment_failed, payment=payment)


@transaction.atomic
def _attempt_failed_before_stripe(*, invoice: Invoice, attempt: int, amount: Money, now: datetime, code: str,
                                  message: str) -> Payment:
    """An attempt that never made a PaymentIntent (no card, or a card refused before one existed)."""
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                tenant_id=invoice.tenant_id, invoice=invoice, attempt=attempt, amount=amount.amount,
                currency=amount.currency, status=Status.FAILED, failure_code=code[:100], failure_message=message[:500],
                created_at=now, settled_at=now)
    except IntegrityError:  # the same attempt, recorded by a concurrent run of it
        return Payment.objects.get(invoice=invoice, attempt=attempt)
    logger.info("stripe_payment_failed invoice=%s attempt=%s code=%s", invoice.number, attempt, code)
    payment_event_send_on_commit(payment_failed, payment=payment)
    return payment


# --- Helpers -----------------------------------------------------------------------------------------------------

# One statement, where a create caught on IntegrityError would be three (a savepoint around the insert, and its
# release): it runs on every settling webhook delivery.
SETTLEMENT_INSERT_SQL = """
INSERT INTO billing_stripesettlement (kind, stripe_id, tenant_id, invoice_id, payment_id, amount, currency, event_id,
                                      detail, created_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s)
ON CONFLICT (kind, stripe_id) DO NOTHING
RETURNING id
"""


def settlement_record(*, kind: str, stripe_id: str, now: datetime, tenant_id: int | None = None,
                       invoice_id: int | None = None, payment: Payment | None = None, amount: Money | None = None,
                       event_id: str = "", detail: dict[str, Any] | None = None) -> bool:
    """Record that `stripe_id` settled `kind`; False (nothing written) when it already had. Two at once: the
    second waits for the first's transaction and writes nothing (the unique constraint stripe_settlement_once)."""
    with connection.cursor() as cursor:
        cursor.execute(SETTLEMENT_INSERT_SQL, [
            kind, stripe_id, tenant_id, invoice_id, payment.pk if payment else None,
            amount.amount if amount else None, amount.currency if amount else "", event_id or "",
            json.dumps(detail or {}), now])
        return cursor.fetchone() is not None


def _default_payment_method_set(*, customer_id: str, payment_method_id: str, idempotency_key: str) -> None:
    stripe_api.customer_update(customer_id, default_payment_method_id=payment_method_id,
                               idempotency_key=idempotency_key)
    # Mirrored at once rather than when customer.updated arrives, so the next charge sees the card.
    customer = StripeCustomerRecord.objects.get(id=customer_id)
    customer.default_payment_method = StripePaymentMethodRecord._get_or_retrieve(id=payment_method_id)
    customer.save(update_fields=["default_payment_method", "djstripe_updated"])


def _customer_of(tenant: Tenant) -> StripeCustomerRecord | None:
    return (StripeCustomerRecord.objects.filter(subscriber=tenant, livemode=stripe_api.stripe_livemode(),
                                                date_purged__isnull=True)
            .order_by("djstripe_id").first())


def tenant_id_for_customer(customer_id: str | None) -> int | None:
    """The tenant whose Stripe customer this is (dj-stripe's subscriber), None for a customer not ours."""
    if not customer_id:
        return None
    return StripeCustomerRecord.objects.filter(id=customer_id).values_list("subscriber_id", flat=True).first()


def _tenant_metadata(tenant: Tenant) -> dict[str, str]:
    return {"tenant_id": str(tenant.pk), "tenant_slug": tenant.slug}


def invoice_metadata(invoice: Invoice) -> dict[str, str]:
    """What every Stripe object made for an invoice carries, so a webhook finds the invoice and its tenant."""
    return {**_tenant_metadata(invoice.tenant), "invoice_id": str(invoice.pk), "invoice_number": invoice.number or ""}


def _address(profile: BillingProfile | None) -> dict[str, str] | None:
    if profile is None or not profile.country:
        return None
    return {"line1": profile.address_line1, "line2": profile.address_line2, "city": profile.city,
            "postal_code": profile.postal_code, "state": profile.region, "country": profile.country}


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
