"""What Stripe's webhooks settle in our books: receivers on dj-stripe's WEBHOOK_SIGNALS, connected once by
billing's AppConfig.ready (webhook_receivers_connect).

dj-stripe's endpoint (/stripe/webhook/<uuid>/ on the public host) verifies the signature (a bad one answers 400
and stores nothing), drops an event id it has already processed, and, in one transaction with our receivers,
re-fetches the event's object from Stripe into its own tables before calling them: its handlers are connected
first (djstripe comes before billing in INSTALLED_APPS), so each receiver reads Stripe's current view of the
object from dj-stripe's row, never the event's body (customer.updated's previous_attributes, which only the event
carries, decides nothing but whether to tell dunning). Two exceptions, for objects dj-stripe keeps no rows of: a
refund event retrieves the refund from Stripe itself, and customer.source.expiring reads the card from the signed
event (it only decides whom to tell about an expiry). A receiver that fails rolls the whole delivery back and
answers 500, and Stripe delivers it again. Event types without a receiver are acknowledged and ignored.

Every receiver is safe to run twice, late or out of order: the services it calls settle each Stripe object once
(billing.payments.services)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from djstripe.models import Charge, Event, PaymentIntent, PaymentMethod, Session, WebhookEndpoint
from djstripe.models import Dispute as StripeDisputeRecord
from djstripe.signals import WEBHOOK_SIGNALS

from billing.models import Payment
from billing.payments import stripe_api
from billing.payments.card_expiry import card_source_expiring
from billing.payments.disputes import dispute_apply
from billing.payments.errors import PaymentObjectMissing
from billing.payments.refunds import card_refund_apply, card_refunds_apply
from billing.payments.services import (
    card_setup_complete,
    customer_default_changed,
    payment_action_url_ensure,
    payment_intent_apply,
    payment_method_attached,
)
from tenants.urls_for import public_url

logger = logging.getLogger(__name__)


def checkout_session_completed(sender, event: Event, **kwargs) -> None:
    data = _synced_data(Session, event)
    if data is None:
        return
    session = stripe_api.checkout_session_from_data(data)
    if session.mode == "setup":
        card_setup_complete(session=session, event_id=event.id, now=timezone.now())
    elif session.mode == "payment" and session.payment_intent_id:
        intent = stripe_api.payment_intent_retrieve(session.payment_intent_id)
        payment_intent_apply(intent=intent, event_id=event.id, now=timezone.now())


def payment_intent_changed(sender, event: Event, **kwargs) -> None:
    """payment_intent.succeeded, .payment_failed, .requires_action, .processing, .canceled: whichever comes, in
    whatever order, the payment is brought to where the intent stands now."""
    data = _synced_data(PaymentIntent, event)
    if data is None:
        return
    payment = payment_intent_apply(intent=stripe_api.payment_intent_from_data(data), event_id=event.id,
                                   now=timezone.now())
    if payment is not None and payment.status == Payment.Status.REQUIRES_ACTION:
        payment_action_url_ensure(payment=payment)


def charge_refunded(sender, event: Event, **kwargs) -> None:
    data = _synced_data(Charge, event)
    if data is not None:
        card_refunds_apply(charge_id=data["id"], event_id=event.id, now=timezone.now())


def refund_changed(sender, event: Event, **kwargs) -> None:
    """refund.updated, refund.failed, charge.refund.updated: dj-stripe keeps no Refund rows, so Stripe's current
    view of the refund is retrieved here (a refund Stripe no longer has is skipped, as dj-stripe does)."""
    refund_id = (event.data.get("object") or {}).get("id")
    if not refund_id:
        return
    try:
        refund = stripe_api.refund_retrieve(refund_id)
    except PaymentObjectMissing:
        logger.warning("stripe_webhook_object_missing event=%s type=%s object=%s", event.id, event.type, refund_id)
        return
    card_refund_apply(refund=refund, event_id=event.id, now=timezone.now())


def dispute_changed(sender, event: Event, **kwargs) -> None:
    """charge.dispute.*: the dispute as dj-stripe re-fetched it (Stripe's current view, so a late or out-of-order
    event brings the dispute to where it stands now)."""
    data = _synced_data(StripeDisputeRecord, event)
    if data is not None:
        dispute_apply(dispute=stripe_api.dispute_from_data(data), event_id=event.id, now=timezone.now())


def customer_source_expiring(sender, event: Event, **kwargs) -> None:
    # dj-stripe syncs no sources: the card is read from the event, whose signature dj-stripe verified.
    card_source_expiring(source=event.data.get("object") or {}, now=timezone.now())


def customer_updated(sender, event: Event, **kwargs) -> None:
    previous = event.data.get("previous_attributes") or {}
    if "invoice_settings" in previous:
        customer_default_changed(customer_id=event.data["object"]["id"])


def payment_method_attached_received(sender, event: Event, **kwargs) -> None:
    data = _synced_data(PaymentMethod, event)
    if data is not None and data.get("customer"):
        payment_method_attached(payment_method_id=data["id"], customer_id=stripe_api.object_id(data["customer"]),
                                event_id=event.id, now=timezone.now())


def payment_method_detached_received(sender, event: Event, **kwargs) -> None:
    # Nothing of ours points at a card: dj-stripe's row now has no customer, and Stripe clears the customer's
    # default (customer.updated follows and tells dunning).
    logger.info("stripe_payment_method_detached payment_method=%s", event.data["object"].get("id"))


RECEIVERS: dict[str, Callable[..., None]] = {
    "checkout.session.completed": checkout_session_completed,
    "payment_intent.succeeded": payment_intent_changed,
    "payment_intent.payment_failed": payment_intent_changed,
    "payment_intent.requires_action": payment_intent_changed,
    "payment_intent.processing": payment_intent_changed,
    "payment_intent.canceled": payment_intent_changed,
    "charge.refunded": charge_refunded,
    "charge.refund.updated": refund_changed,
    "refund.updated": refund_changed,
    "refund.failed": refund_changed,
    "charge.dispute.created": dispute_changed,
    "charge.dispute.updated": dispute_changed,
    "charge.dispute.closed": dispute_changed,
    "charge.dispute.funds_withdrawn": dispute_changed,
    "charge.dispute.funds_reinstated": dispute_changed,
    "customer.source.expiring": customer_source_expiring,
    "customer.updated": customer_updated,
    "payment_method.attached": payment_method_attached_received,
    "payment_method.detached": payment_method_detached_received,
}


# The dj-stripe endpoint row this deployment receives on (one per deployment; Stripe's own id when it was
# registered in the dashboard is not needed: the row is found by this one).
WEBHOOK_ENDPOINT_ID = "we_tollgate"


@transaction.atomic
def webhook_endpoint_ensure(*, secret: str) -> WebhookEndpoint:
    """Create or update the endpoint row dj-stripe verifies deliveries with: `secret` is the signing secret Stripe
    gave (the dashboard's, or `stripe listen`'s). Its URL keeps its uuid across updates."""
    endpoint = WebhookEndpoint.objects.select_for_update().filter(id=WEBHOOK_ENDPOINT_ID).first() \
        or WebhookEndpoint(id=WEBHOOK_ENDPOINT_ID)
    endpoint.secret = secret
    endpoint.livemode = stripe_api.stripe_livemode()
    endpoint.api_version = settings.STRIPE_API_VERSION
    endpoint.enabled_events = sorted(RECEIVERS)
    endpoint.status = "enabled"
    endpoint.djstripe_validation_method = "verify_signature"
    endpoint.url = webhook_endpoint_url(endpoint)
    endpoint.save()
    return endpoint


def webhook_endpoint_url(endpoint: WebhookEndpoint) -> str:
    """Where Stripe posts: dj-stripe's view on the public host."""
    path = reverse("djstripe:djstripe_webhook_by_uuid", kwargs={"uuid": endpoint.djstripe_uuid},
                   urlconf=settings.PUBLIC_SCHEMA_URLCONF)
    return public_url(path)


def webhook_receivers_connect() -> None:
    for event_type, receiver in RECEIVERS.items():
        WEBHOOK_SIGNALS[event_type].connect(receiver, sender=Event, dispatch_uid=f"billing.payments:{event_type}")


def _synced_data(model: type, event: Event) -> dict[str, Any] | None:
    """Stripe's view of the event's object, as dj-stripe fetched it for this delivery (None when Stripe no longer
    has it, which dj-stripe skips)."""
    object_id = (event.data.get("object") or {}).get("id")
    row = model.objects.filter(id=object_id).only("stripe_data").first() if object_id else None
    if row is None:
        logger.warning("stripe_webhook_object_missing event=%s type=%s object=%s", event.id, event.type, object_id)
        return None
    return row.stripe_data
