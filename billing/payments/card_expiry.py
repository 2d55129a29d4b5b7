"""Telling a tenant's billing people that the card renewals are charged to expires at the end of this month, once
per (card, expiry month), whichever path hears of it first:

- the daily beat job `billing.card_expiry_scan` (09:00 UTC) reads dj-stripe's mirror of every tenant customer's
  default card (card.exp_month / exp_year) and tells those whose card expires this month;
- Stripe's customer.source.expiring, which Stripe sends for cards attached as sources (older integrations).

The cause key `card:<card id>:<year>-<month>` makes the second path, and every later run, tell nobody again; a
new card (a new id) or the same card renewed with a later expiry is a new cause. The link opens the billing page's
payment method section, where Manage cards reaches Stripe's portal."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from djstripe.models import Customer as StripeCustomerRecord

from billing.payments.selectors import BRAND_NAMES
from billing.payments.services import tenant_id_for_customer
from billing.payments.stripe_api import stripe_livemode
from notifications.categories import Category
from notifications.services import Delivery, notify
from tenants.models import Tenant

logger = logging.getLogger(__name__)

CARD_SECTION = "/billing/#billing-card"


@dataclass(frozen=True)
class ExpiringCard:
    card_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int

    @property
    def cause(self) -> str:
        return f"card:{self.card_id}:{self.exp_year}-{self.exp_month:02d}"


def card_expiry_scan(*, now: datetime) -> int:
    """Tell every tenant whose default card expires at the end of `now`'s month; returns how many tenants were
    told for the first time (a second run the same month tells none)."""
    customers = (StripeCustomerRecord.objects
                 .filter(subscriber__isnull=False, livemode=stripe_livemode(), date_purged__isnull=True,
                         default_payment_method__stripe_data__card__exp_month=now.month,
                         default_payment_method__stripe_data__card__exp_year=now.year)
                 .select_related("subscriber", "default_payment_method"))
    told = 0
    for customer in customers:
        method = customer.default_payment_method
        card = method.stripe_data["card"]
        delivery = card_expiring_notify(tenant=customer.subscriber, card=ExpiringCard(
            card_id=method.id, brand=card.get("brand") or "", last4=card.get("last4") or "",
            exp_month=int(card["exp_month"]), exp_year=int(card["exp_year"])), now=now)
        told += bool(delivery.notified or delivery.email)
    logger.info("card_expiry_scan month=%s-%02d tenants_told=%s", now.year, now.month, told)
    return told


def card_source_expiring(*, source: dict, now: datetime) -> bool:
    """Stripe's customer.source.expiring for a card of a tenant's customer (the signed event's card: dj-stripe
    keeps no row of sources). A card that has already expired by the time the event arrives is not news.
    Returns whether anybody was told for the first time."""
    tenant_id = tenant_id_for_customer(source.get("customer"))
    if tenant_id is None or source.get("object") != "card" or not source.get("id"):
        return False
    card = ExpiringCard(card_id=source["id"], brand=(source.get("brand") or "").lower(),
                        last4=source.get("last4") or "", exp_month=int(source.get("exp_month") or 0),
                        exp_year=int(source.get("exp_year") or 0))
    if (card.exp_year, card.exp_month) < (now.year, now.month):
        return False
    delivery = card_expiring_notify(tenant=Tenant.objects.get(pk=tenant_id), card=card, now=now)
    return bool(delivery.notified or delivery.email)


def card_expiring_notify(*, tenant: Tenant, card: ExpiringCard, now: datetime) -> Delivery:
    """Tell the tenant's billing people (owners and billing members) once per card and expiry month."""
    brand = BRAND_NAMES.get(card.brand, card.brand.title() or "Card")
    return notify(tenant=tenant, category=Category.CARD_EXPIRING, cause=card.cause,
                  title=f"Your {brand} ending in {card.last4} expires at the end of {card.exp_month:02d}/"
                        f"{card.exp_year}",
                  body="Renewals and open invoices are charged to this card. Add a new card (or update this one "
                       "in Manage cards) before it expires so the next payment goes through.",
                  link=CARD_SECTION, now=now)
