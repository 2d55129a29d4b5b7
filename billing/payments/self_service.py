"""What a tenant's owners and billing members do with Stripe from their pages: pay an open invoice now on a hosted
Checkout page (a token pack or an accepted quote goes there as soon as it is invoiced), open Stripe's customer
portal to manage their cards, and have their renewals charged to the card they saved. Saving a card itself is
the payment rail's (card_setup_checkout_create, then its webhook).

Nothing here settles anything: an invoice paid on the hosted page is marked paid when Stripe's webhook says the
money arrived (billing.payments.services.payment_intent_apply), never because the browser came back."""

from __future__ import annotations

import logging
from datetime import datetime

from django.dispatch import receiver
from django.utils import timezone

from billing.consolidation.selectors import invoice_is_consolidated
from billing.errors import InvoiceStateInvalid
from billing.models import Invoice, Payment, Subscription
from billing.payments import stripe_api
from billing.payments.errors import PaymentInProgress, PaymentProviderError, PaymentsNotConfigured
from billing.payments.events import payment_method_changed
from billing.payments.selectors import default_card_get, invoice_payment_processing, stripe_customer_id_get
from billing.payments.services import STRIPE_COLLECTION, stripe_customer_ensure
from billing.subscriptions.selectors import subscription_current
from billing.subscriptions.services import subscription_collection_method_set
from config.money import Money, money_round, money_to_minor_units
from tenants.models import Tenant
from tenants.urls_for import tenant_url

logger = logging.getLogger(__name__)

# An invoice the tenant may still pay: open, or written off by dunning (paying it brings the plan back).
PAYABLE = (Invoice.Status.OPEN, Invoice.Status.UNCOLLECTIBLE)
CARD_SAVED_ACTOR = "stripe"


# --- Pay now -----------------------------------------------------------------------------------------------------

def invoice_pay_now_url_create(*, invoice: Invoice, now: datetime) -> str:
    """The URL of a hosted Checkout page (payment mode) where the tenant pays the invoice's amount due by card,
    authenticating if the bank asks, and saves the card for later charges.

    Clicking twice the same UTC day reaches the same page: the Idempotency-Key names the invoice, the amount due
    and the day, and Stripe replays its first answer for 24 hours, which is also how long a page lives. A page
    already paid (its webhook not yet arrived) is shown as paid, instead of a second page that could take the
    money twice. Refused for an invoice with nothing to pay or billed through a payer (InvoiceStateInvalid), one
    whose payment Stripe is processing (PaymentInProgress), and without Stripe (PaymentsNotConfigured)."""
    if not stripe_api.stripe_enabled():
        raise PaymentsNotConfigured("Card payments are not available: this invoice is paid by transfer.")
    invoice = Invoice.objects.select_related("tenant").get(pk=invoice.pk)
    if invoice_is_consolidated(invoice):
        raise InvoiceStateInvalid(f"Invoice {invoice.number} is billed through your provider: nothing to pay here.",
                                  details={"collection_method": invoice.collection_method})
    if invoice.status not in PAYABLE or invoice.amount_due <= 0:
        raise InvoiceStateInvalid(f"Invoice {invoice.number} has nothing to pay ({invoice.get_status_display()}).",
                                  details={"status": invoice.status})
    if invoice_payment_processing(invoice=invoice):
        raise PaymentInProgress(f"A payment of invoice {invoice.number} is being processed: it shows as paid as "
                                "soon as it clears.")
    amount = money_round(Money(invoice.amount_due, invoice.currency))
    customer = stripe_customer_ensure(tenant=invoice.tenant)
    success_url, cancel_url = _checkout_return_urls(invoice)
    session = stripe_api.checkout_payment_session_create(
        customer_id=customer.id, amount=amount, description=f"Invoice {invoice.number}",
        success_url=success_url, cancel_url=cancel_url,
        # What payment_intent_apply matches the payment to the invoice (and its tenant) by.
        metadata={"tenant_id": str(invoice.tenant_id), "tenant_slug": invoice.tenant.slug,
                  "invoice_id": str(invoice.pk), "invoice_number": invoice.number, "source": Payment.Source.CHECKOUT},
        idempotency_key=f"invoice-{invoice.pk}-pay-now-{money_to_minor_units(amount)}-{now:%Y%m%d}")
    if not session.url:
        raise PaymentProviderError("Stripe did not return a payment page; try again.")
    logger.info("invoice_pay_now_page tenant=%s invoice=%s session=%s", invoice.tenant_id, invoice.number, session.id)
    return session.url


def purchase_checkout_url_create(*, invoice: Invoice, now: datetime) -> str | None:
    """The hosted Checkout page for a one-time purchase just invoiced (a token pack, an accepted quote), where the
    tenant pays it by card (and saves the card) at once; its webhook settles the invoice, which credits the
    tokens. None when it is paid otherwise: without Stripe (by transfer), or when nothing is left to pay (the
    account credit paid it). Refusals as invoice_pay_now_url_create's."""
    if not stripe_api.stripe_enabled() or invoice.status != Invoice.Status.OPEN or invoice.amount_due <= 0:
        return None
    return invoice_pay_now_url_create(invoice=invoice, now=now)


def _checkout_return_urls(invoice: Invoice) -> tuple[str, str]:
    """Where the hosted page sends the browser back (success, cancel): a one-time purchase to the page that shows
    what it bought, through the invoice's checkout return route (billing.views.invoice_checkout_return); any
    other invoice to its own page. Decided by the invoice alone, whichever page opened Checkout: a second click
    the same day must send Stripe the very same request (a replayed Idempotency-Key with other parameters is
    refused), and so reaches the same page."""
    path = f"/billing/invoices/{invoice.number}/"
    if invoice.billing_reason == Invoice.Reason.ONE_TIME:
        return (tenant_url(invoice.tenant, f"{path}checkout/paid/"),
                tenant_url(invoice.tenant, f"{path}checkout/canceled/"))
    return tenant_url(invoice.tenant, f"{path}?paid=1"), tenant_url(invoice.tenant, path)


# --- Cards -------------------------------------------------------------------------------------------------------

def card_portal_url_create(*, tenant: Tenant, return_url: str) -> str | None:
    """A fresh link to Stripe's customer portal for the tenant's cards (a portal link expires within minutes, so
    emails link to our route that calls this, never to a portal URL). None when the tenant has no Stripe customer
    yet: there is no card to manage, and opening a link must not create one."""
    if not stripe_api.stripe_enabled():
        raise PaymentsNotConfigured("Cards are not used: invoices are paid by transfer.")
    customer_id = stripe_customer_id_get(tenant=tenant)
    if customer_id is None:
        return None
    return stripe_api.billing_portal_session_create(customer_id=customer_id, return_url=return_url).url


def subscription_card_collection_enable(*, tenant: Tenant, actor: str, now: datetime) -> Subscription | None:
    """Charge the current subscription's next invoices to the tenant's default card: its collection method
    becomes `stripe`. Returns the subscription when it changed; None when there is no card on file, no current
    subscription, or it already is. Invoices already issued keep their method (and can be paid now by card)."""
    if default_card_get(tenant=tenant) is None:
        return None
    subscription = subscription_current(tenant=tenant)
    if subscription is None or subscription.collection_method == STRIPE_COLLECTION:
        return None
    subscription = subscription_collection_method_set(subscription=subscription, collection_method=STRIPE_COLLECTION,
                                                      actor=actor, now=now)
    logger.info("subscription_card_collection tenant=%s subscription=%s actor=%s", tenant.pk, subscription.pk, actor)
    return subscription


@receiver(payment_method_changed, dispatch_uid="billing.payments.self_service:payment_method_changed")
def card_saved_collect_by_card(sender, tenant_id: int, **kwargs) -> None:
    """A card saved as the default (on our Checkout page or in Stripe's portal): the subscription's renewals are
    charged to it from now on. A card removed changes nothing (the next charge fails and dunning asks for one)."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is not None:
        subscription_card_collection_enable(tenant=tenant, actor=CARD_SAVED_ACTOR, now=timezone.now())
