"""Reads of the payment rail for the tenant's pages: the tenant's card as our records (dj-stripe's mirror of
Stripe) hold it, and whether an invoice has a payment on its way. Nothing here calls Stripe: a page shows what
the webhooks (and our own writes) last brought, so it renders whether Stripe answers or not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Sum
from djstripe.models import Customer as StripeCustomerRecord

from billing.models import Dispute, Invoice, Payment
from billing.payments.stripe_api import stripe_livemode
from tenants.models import Tenant

# Brands as Stripe names them (card.brand) and as people read them.
BRAND_NAMES = {
    "amex": "American Express", "cartes_bancaires": "Cartes Bancaires", "diners": "Diners Club",
    "discover": "Discover", "eftpos_au": "eftpos", "jcb": "JCB", "link": "Link", "mastercard": "Mastercard",
    "unionpay": "UnionPay", "visa": "Visa",
}


@dataclass(frozen=True)
class CardOnFile:
    """The tenant's default card: what may be shown of it (never more than Stripe shows: brand, last 4, expiry)."""

    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int

    @property
    def brand_name(self) -> str:
        return BRAND_NAMES.get(self.brand, self.brand.replace("_", " ").title() or "Card")

    @property
    def expiry(self) -> str:
        return f"{self.exp_month:02d}/{self.exp_year}"


def stripe_customer_id_get(*, tenant: Tenant) -> str | None:
    """The tenant's Stripe customer id, if it has one in the configured mode (test or live); never creates one."""
    return (StripeCustomerRecord.objects.filter(subscriber=tenant, livemode=stripe_livemode(),
                                                date_purged__isnull=True)
            .order_by("djstripe_id").values_list("id", flat=True).first())


def default_card_get(*, tenant: Tenant) -> CardOnFile | None:
    """The default card of the tenant's Stripe customer (the one renewals and dunning charge), or None.

    Read from dj-stripe's rows: the payment rail mirrors a card it makes the default at once, and a change made
    in Stripe's portal arrives with customer.updated, so the page may lag Stripe by a webhook's delivery."""
    customer = (StripeCustomerRecord.objects.filter(subscriber=tenant, livemode=stripe_livemode(),
                                                    date_purged__isnull=True)
                .select_related("default_payment_method").order_by("djstripe_id").first())
    method = customer.default_payment_method if customer else None
    card = (method.stripe_data or {}).get("card") if method else None
    if not card:
        return None
    return CardOnFile(payment_method_id=method.id, brand=card.get("brand") or "", last4=card.get("last4") or "",
                      exp_month=int(card.get("exp_month") or 0), exp_year=int(card.get("exp_year") or 0))


def invoice_payment_processing(*, invoice: Invoice) -> bool:
    """Whether a payment of the invoice is on its way (Stripe is processing it): paying again could pay twice."""
    return Payment.objects.filter(invoice_id=invoice.pk, status=Payment.Status.PROCESSING).exists()



def disputes_lost_between(*, start: datetime, end: datetime) -> dict[str, Decimal]:
    """What disputes lost in [start, end) took back, per currency (by when they closed): the cash an invoice
    brought and the bank returned to the cardholder, for cash-collected figures to subtract."""
    rows = (Dispute.objects.filter(status=Dispute.Status.LOST, closed_at__gte=start, closed_at__lt=end)
            .values("currency").annotate(total=Sum("amount")))
    return {row["currency"]: row["total"] for row in rows}
