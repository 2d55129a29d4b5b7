"""Give the demo its card payments (run by `./dev up` after billing_demo_seed). Only against the local fake of
Stripe that `./dev up` runs when no keys are set: everything here is test data. With Stripe's own API (test
keys) the command says so and does nothing, as it does without Stripe.

- acme saves a Visa test card (4242) on Stripe's hosted Checkout page: it becomes the default card and the
  subscription's renewals are charged to it;
- acme pays its open invoice on the invoice's "Pay now" Checkout page: a past invoice paid by card;
- acme adds a seventh seat: the prorated invoice is charged off-session to the card (`invoice_charge`), and ops
  refund it in full to the card with a credit note (the seat was a mistake; it goes at the period's end);
- northwind's default card, saved through the API, is the test card that declines (…0002): it adds two seats,
  the prorated invoice's charge is declined and dunning takes the invoice (its retries run on dunning's own
  schedule). A Stripe that saved another card than the number given leaves this part out (and says so).

The cardholder's steps go through the fake's hosted Checkout pages and its API over HTTP, as a browser would;
our side goes through the payment rail's services. Webhooks cannot be delivered while `./dev up` seeds (the web
server is not up yet), so each step is settled through the service its webhook would have called; the webhooks
the fake delivers later find it settled and change nothing (except that the customer.updated of northwind's
default card may have dunning retry that card once). Each step is skipped once done: a second run changes
nothing."""

from __future__ import annotations

import json
from datetime import datetime
from urllib.error import HTTPError
from urllib.parse import urlencode, urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.invoicing.services import credit_note_issue
from billing.models import CardRefund, CreditNote, DunningCase, Invoice, Payment, Subscription
from billing.payments import stripe_api
from billing.payments.refunds import card_refund_request
from billing.payments.selectors import default_card_get
from billing.payments.self_service import invoice_pay_now_url_create, subscription_card_collection_enable
from billing.payments.services import (
    STRIPE_COLLECTION,
    card_setup_checkout_create,
    card_setup_complete,
    invoice_charge,
    payment_intent_apply,
    payment_method_attached,
    stripe_customer_ensure,
)
from billing.subscriptions.selectors import subscription_current
from billing.subscriptions.services import subscription_change
from config.money import Money
from tenants.models import Tenant
from tenants.urls_for import tenant_url

OPS = "ops@tollgate.localhost"
CARD_VISA = "4242 4242 4242 4242"
CARD_DECLINES = "4000 0000 0000 0002"
EXPIRY = (12, 2034)
ACME_SEATS = 7  # one more than billing_demo_seed's six
NORTHWIND_SEATS = 7  # two beyond Agency's five included
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}  # the fake that `./dev up` and the tests run


class _NoRedirect(HTTPRedirectHandler):
    # Checkout answers a completed page with a redirect to our success URL, on a web server not up yet.
    def redirect_request(self, *args, **kwargs) -> None:
        return None


class Command(BaseCommand):
    help = "Seed the demo's card payments through Stripe (the local fake without keys; idempotent)."

    def handle(self, *args, **options) -> None:
        if not stripe_api.stripe_enabled():
            self.stdout.write("Stripe is not configured (STRIPE_SECRET_KEY is unset): no card payments seeded; "
                              "invoices are paid by transfer.")
            return
        if urlsplit(settings.STRIPE_API_BASE).hostname not in LOCAL_HOSTS:
            # Stripe's own Checkout pages need a browser, and its API takes no raw card numbers.
            self.stdout.write("Stripe is Stripe's own API: no card payments seeded (save a test card on the billing "
                              "page instead).")
            return
        now = timezone.now()
        tenants = {tenant.slug: tenant for tenant in Tenant.objects.filter(slug__in=["acme", "northwind"])}
        if "acme" in tenants and subscription_current(tenant=tenants["acme"]) is not None:
            self._acme(tenants["acme"], now=now)
            self.stdout.write("Demo card payments (Stripe test data): acme's Visa ···· 4242 paid its open invoice "
                              "and a seat, refunded to it.")
        if "northwind" in tenants and subscription_current(tenant=tenants["northwind"]) is not None:
            if self._northwind(tenants["northwind"], now=now):
                self.stdout.write("Demo card payments (Stripe test data): northwind's card ···· 0002 was declined; "
                                  "its invoice is in dunning.")

    # --- acme --------------------------------------------------------------------------------------------------

    def _acme(self, acme: Tenant, *, now: datetime) -> None:
        if default_card_get(tenant=acme) is None:
            self._card_save_on_checkout(acme, now=now)
        subscription_card_collection_enable(tenant=acme, actor=acme.owner_email, now=now)
        cycle = (Invoice.objects.filter(tenant=acme, billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE)
                 .order_by("-period_end").first())
        if cycle is not None and cycle.status == Invoice.Status.OPEN:
            self._pay_now(cycle, now=now)
        subscription = subscription_current(tenant=acme)
        if not self._card_invoices(acme).exists() and subscription.quantity < ACME_SEATS:
            subscription_change(subscription=subscription, quantity=ACME_SEATS, actor=acme.owner_email, now=now)
        seat = self._card_invoices(acme).order_by("created_at").first()
        if seat is None:  # seats added by hand in the demo before this ran: the rest of the story does not apply
            return
        self._charge(seat, now=now)
        seat.refresh_from_db()
        if seat.status == Invoice.Status.PAID and not CardRefund.objects.filter(invoice=seat).exists():
            self._refund(seat, acme, now=now)

    def _card_invoices(self, tenant: Tenant):
        return Invoice.objects.filter(tenant=tenant, billing_reason=Invoice.Reason.SUBSCRIPTION_UPDATE,
                                      collection_method=STRIPE_COLLECTION)

    def _card_save_on_checkout(self, tenant: Tenant, *, now: datetime) -> None:
        billing = tenant_url(tenant, "/billing/")
        session = card_setup_checkout_create(tenant=tenant, success_url=billing, cancel_url=billing)
        self._checkout_submit(session.url, card=CARD_VISA)
        # What checkout.session.completed's receiver does, on Stripe's view of the session.
        card_setup_complete(session=stripe_api.checkout_session_retrieve(session.id), event_id="", now=now)

    def _pay_now(self, invoice: Invoice, *, now: datetime) -> None:
        url = invoice_pay_now_url_create(invoice=invoice, now=now)
        self._checkout_submit(url, card=CARD_VISA)
        session = stripe_api.checkout_session_retrieve(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
        if not session.payment_intent_id:
            raise CommandError(f"Stripe's Checkout page for invoice {invoice.number} took no payment.")
        payment_intent_apply(intent=stripe_api.payment_intent_retrieve(session.payment_intent_id), now=now)

    def _refund(self, invoice: Invoice, tenant: Tenant, *, now: datetime) -> None:
        note = credit_note_issue(invoice=invoice, amount=Money(invoice.amount_paid, invoice.currency),
                                 reason=CreditNote.Reason.ORDER_CHANGE, refund_to=CreditNote.RefundTo.CARD,
                                 memo="The seventh seat was added by mistake: refunded to your card, and the seat "
                                      "goes at the end of the period.", actor=OPS, now=now)
        # What the refund task does once the credit note commits, done now so the page shows it settled.
        card_refund_request(card_refund_id=note.card_refund.pk, now=now)
        subscription = subscription_current(tenant=tenant)
        if subscription.scheduled_quantity is None:
            subscription_change(subscription=subscription, quantity=ACME_SEATS - 1, actor=OPS, now=now)

    # --- northwind --------------------------------------------------------------------------------------------

    def _northwind(self, northwind: Tenant, *, now: datetime) -> bool:
        """Whether northwind's invoice is in dunning."""
        if DunningCase.objects.filter(tenant=northwind).exists():
            return True
        if default_card_get(tenant=northwind) is None and not self._card_attach_by_api(
                northwind, card=CARD_DECLINES, now=now):
            return False
        subscription_card_collection_enable(tenant=northwind, actor=northwind.owner_email, now=now)
        subscription = subscription_current(tenant=northwind)
        if subscription.status == Subscription.Status.ACTIVE and subscription.quantity < NORTHWIND_SEATS:
            subscription_change(subscription=subscription, quantity=NORTHWIND_SEATS, actor=northwind.owner_email,
                                now=now)
        for invoice in self._card_invoices(northwind).filter(status=Invoice.Status.OPEN):
            self._charge(invoice, now=now)
        return DunningCase.objects.filter(tenant=northwind).exists()

    def _card_attach_by_api(self, tenant: Tenant, *, card: str, now: datetime) -> bool:
        """A card saved on the customer through Stripe's API (the Checkout page refuses a card that declines
        there): a card that was fine when saved and is declined now. Attached to a customer with no default
        card, it becomes the default, as payment_method.attached's receiver makes it. False when Stripe saved
        another card than the number given."""
        customer = stripe_customer_ensure(tenant=tenant)
        method = self._api_post("/v1/payment_methods", {
            "type": "card", "card[number]": card.replace(" ", ""), "card[exp_month]": EXPIRY[0],
            "card[exp_year]": EXPIRY[1], "card[cvc]": "123", "billing_details[name]": f"{tenant.name} (test card)"})
        if method["card"]["last4"] != card[-4:]:
            # A Stripe (or fake) that took the number for another card must not leave a working card as the default.
            self.stderr.write(f"Stripe saved card ···· {method['card']['last4']} for {card[-4:]}: {tenant.slug}'s "
                              "declined card and dunning case are not seeded.")
            return False
        self._api_post(f"/v1/payment_methods/{method['id']}/attach", {"customer": customer.id})
        payment_method_attached(payment_method_id=method["id"], customer_id=customer.id, event_id="", now=now)
        return True

    # --- Both ----------------------------------------------------------------------------------------------------

    def _charge(self, invoice: Invoice, *, now: datetime) -> Payment:
        attempt = Payment.objects.filter(invoice=invoice).count() or 1
        return invoice_charge(invoice=invoice, attempt=attempt, now=now)

    def _checkout_submit(self, url: str, *, card: str) -> None:
        """The cardholder fills in Checkout's hosted page and submits it."""
        form = {"card_number": card, "expiry": f"{EXPIRY[0]:02d}/{EXPIRY[1] % 100:02d}", "cvc": "123",
                "name": "Demo cardholder (test data)"}
        status = self._post(url, urlencode(form).encode(), {})
        if status not in (200, 302, 303):
            raise CommandError(f"Stripe's Checkout page at {url} refused the test card (HTTP {status}).")

    def _api_post(self, path: str, params: dict) -> dict:
        opener = build_opener(_NoRedirect)
        request = Request(settings.STRIPE_API_BASE.rstrip("/") + path, data=urlencode(params).encode(),
                          headers={"Authorization": f"Bearer {settings.STRIPE_SECRET_KEY}",
                                   "Stripe-Version": settings.STRIPE_API_VERSION})
        try:
            with opener.open(request, timeout=10) as response:
                return json.loads(response.read())
        except HTTPError as error:
            raise CommandError(f"Stripe refused {path}: HTTP {error.code} {error.read()[:300]!r}") from error

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        opener = build_opener(_NoRedirect)
        try:
            with opener.open(Request(url, data=body, headers=headers), timeout=30) as response:
                return response.status
        except HTTPError as error:
            return error.code

