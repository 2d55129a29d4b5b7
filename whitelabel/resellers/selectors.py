"""Reads for reseller billing: an agency's price list (with Tollgate's list and wholesale prices beside its own),
its invoices to its clients, a client's invoices from its agency, and the agency's margin.

Every read of invoices takes the workspace it is for (the agency, or the client) and filters on it, so a number
from another workspace is answered like one that does not exist."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncMonth

from affiliates.agencies.selectors import agency_profile_get
from affiliates.models import AgencyProfile
from billing.models import Plan, Price
from billing.selectors import entitlements_for, plan_list_public
from config.money import Money, money_round
from tenants.models import Tenant
from whitelabel.brands.selectors import brand_for
from whitelabel.models import ResellerInvoice, ResellerInvoiceLine, ResellerPrice, ResellerSettings

HUNDRED = Decimal(100)


# --- Who resells --------------------------------------------------------------------------------------------

def reseller_mode_is(*, agency: Tenant) -> bool:
    """An agency that ops put in reseller mode: Tollgate bills it wholesale for its clients and it bills them."""
    if agency.type != Tenant.Type.AGENCY:
        return False
    profile = agency_profile_get(agency=agency)
    return profile is not None and profile.earnings_mode == AgencyProfile.EarningsMode.RESELLER


def reseller_may_price(*, agency: Tenant) -> bool:
    """A reseller whose plan has white_label: the one kind of workspace that sets its own prices."""
    return reseller_mode_is(agency=agency) and entitlements_for(tenant=agency).white_label


def wholesale_percent_off(*, agency: Tenant) -> Decimal:
    """How much Tollgate takes off its list prices for the agency (AgencyProfile.wholesale_discount_percent)."""
    profile = agency_profile_get(agency=agency)
    return profile.wholesale_discount_percent if profile is not None else Decimal(0)


def wholesale_of(amount: Money, *, percent_off: Decimal) -> Money:
    """A list amount at wholesale, rounded once to the currency's minor units (half up), the rounding of the
    consolidated invoice's lines."""
    return money_round(Money(amount.amount * (HUNDRED - percent_off) / HUNDRED, amount.currency))


def reseller_display_name(*, agency: Tenant) -> str:
    """The name the agency shows its clients: its brand's, else its workspace's."""
    brand = brand_for(tenant=agency)
    return brand.display_name if brand is not None else agency.name


def reseller_settings_get(*, agency: Tenant) -> ResellerSettings | None:
    return ResellerSettings.objects.filter(agency=agency).first()


def number_prefix_default(*, agency: Tenant) -> str:
    """The prefix of an agency's invoice numbers until it chooses one: its slug's letters and digits, upper case."""
    return re.sub(r"[^A-Z0-9]", "", agency.slug.upper())[:10] or "INV"


# --- Price lists ----------------------------------------------------------------------------------------------

def reseller_prices_active(agency: Tenant) -> QuerySet[ResellerPrice]:
    """The agency's prices its clients pay (the reseller portal's pricing page), with their plan."""
    return (ResellerPrice.objects.filter(agency=agency, is_active=True).select_related("plan")
            .order_by("plan__sort_order", "plan__code", "currency", "interval"))


def reseller_price_for(agency: Tenant, plan: Plan, interval: str, currency: str) -> ResellerPrice | None:
    """The agency's active price for the plan on this interval in this currency, if it set one."""
    return ResellerPrice.objects.filter(agency=agency, plan=plan, interval=interval, currency=currency,
                                        is_active=True).first()


@dataclass(frozen=True)
class PriceListRow:
    plan: Plan
    interval: str
    interval_label: str
    currency: str
    list_price: Money
    wholesale: Money
    price: ResellerPrice | None  # the agency's row, active or not

    @property
    def key(self) -> str:
        """The row's name in forms: plan, interval and currency."""
        return f"{self.plan.code}:{self.interval}:{self.currency}"

    @property
    def your_price(self) -> Money | None:
        return Money(self.price.amount, self.currency) if self.price and self.price.is_active else None

    @property
    def margin(self) -> Money | None:
        return None if self.your_price is None else self.your_price - self.wholesale


def tollgate_prices(*, plans: list[Plan] | None = None) -> dict[tuple[str, str, str], Price]:
    """Tollgate's current price of each public plan per (plan code, interval, currency): the newest active one,
    as on the pricing page (ops replace a price by creating a new one)."""
    prices: dict[tuple[str, str, str], Price] = {}
    for plan in plans if plans is not None else plan_list_public():
        for price in sorted(plan.prices.all(), key=lambda price: (price.created_at, price.pk), reverse=True):
            prices.setdefault((plan.code, price.interval, price.currency), price)
    return prices


def reseller_price_list(*, agency: Tenant) -> list[PriceListRow]:
    """Each plan, interval and currency Tollgate sells publicly: its list price, the agency's wholesale price
    and the agency's own price and margin, in catalogue order."""
    plans = plan_list_public()
    percent_off = wholesale_percent_off(agency=agency)
    own = {(price.plan_id, price.interval, price.currency): price
           for price in ResellerPrice.objects.filter(agency=agency)}
    rows = []
    for (_, interval, currency), price in tollgate_prices(plans=plans).items():
        list_price = price.fixed_money
        rows.append(PriceListRow(plan=price.plan, interval=interval, interval_label=price.get_interval_display(),
                                 currency=currency, list_price=list_price,
                                 wholesale=wholesale_of(list_price, percent_off=percent_off),
                                 price=own.get((price.plan_id, interval, currency))))
    order = {plan.pk: index for index, plan in enumerate(plans)}
    intervals = {interval: index for index, interval in enumerate(Price.INTERVAL_MONTHS)}
    return sorted(rows, key=lambda row: (order[row.plan.pk], row.currency, intervals.get(row.interval, 9)))


@dataclass(frozen=True)
class MissingPrice:
    plan_code: str
    interval: str
    currency: str


def reseller_prices_missing(*, agency: Tenant) -> list[MissingPrice]:
    """Plans the agency's clients were invoiced for at Tollgate's list price (it had no price of its own), and
    for which it still has none: the dashboard asks it to set one."""
    used = (ResellerInvoiceLine.objects.filter(invoice__agency=agency, pricing=ResellerInvoiceLine.Pricing.LIST_PRICE)
            .exclude(invoice__status=ResellerInvoice.Status.VOID)
            .values_list("plan_code", "interval", "invoice__currency").distinct())
    priced = set(reseller_prices_active(agency).values_list("plan__code", "interval", "currency"))
    return [MissingPrice(plan_code=plan_code, interval=interval, currency=currency)
            for plan_code, interval, currency in sorted(set(used)) if (plan_code, interval, currency) not in priced]


# --- Invoices -------------------------------------------------------------------------------------------------

def reseller_invoice_list_for_client(*, client: Tenant) -> QuerySet[ResellerInvoice]:
    """The invoices the client's agency issued to it (only its current agency's: a client that moved on keeps
    seeing the invoices it received, which are its own)."""
    return ResellerInvoice.objects.filter(client=client).select_related("agency")


def reseller_invoice_get_for_client(*, client: Tenant, number: str) -> ResellerInvoice | None:
    return reseller_invoice_list_for_client(client=client).filter(number=number).first()


def reseller_invoice_list_for_agency(*, agency: Tenant) -> QuerySet[ResellerInvoice]:
    return ResellerInvoice.objects.filter(agency=agency).select_related("client")


def reseller_invoice_get_for_agency(*, agency: Tenant, number: str) -> ResellerInvoice | None:
    return reseller_invoice_list_for_agency(agency=agency).filter(number=number).first()


# --- Margin ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MarginRow:
    month: date
    client: Tenant
    invoices: int
    invoiced: Money
    wholesale: Money

    @property
    def margin(self) -> Money:
        return self.invoiced - self.wholesale


@dataclass(frozen=True)
class MarginTotal:
    invoiced: Money
    wholesale: Money

    @property
    def margin(self) -> Money:
        return self.invoiced - self.wholesale


@dataclass(frozen=True)
class MarginReport:
    rows: list[MarginRow]  # newest month first, then by client name
    totals: list[MarginTotal]  # per currency
    missing_prices: list[MissingPrice]


def reseller_margin(*, agency: Tenant) -> MarginReport:
    """What the agency invoiced its clients (before its tax), what Tollgate charges it for them (wholesale) and
    the difference, per client and month of issue, and in total per currency. Void invoices count for nothing.
    One aggregate query; the clients' names in a second."""
    grouped = (ResellerInvoice.objects.filter(agency=agency).exclude(status=ResellerInvoice.Status.VOID)
               .annotate(month=TruncMonth("issued_at")).values("month", "client_id", "currency")
               .annotate(invoices=Count("id"), invoiced=Sum("subtotal"), wholesale=Sum("wholesale_amount")))
    groups = list(grouped)
    clients = Tenant.objects.in_bulk({group["client_id"] for group in groups})
    rows = [MarginRow(month=group["month"].date(), client=clients[group["client_id"]], invoices=group["invoices"],
                      invoiced=Money(group["invoiced"], group["currency"]),
                      wholesale=Money(group["wholesale"], group["currency"])) for group in groups]
    rows.sort(key=lambda row: (row.client.name.lower(), row.invoiced.currency))
    rows.sort(key=lambda row: row.month, reverse=True)
    invoiced: dict[str, Decimal] = defaultdict(Decimal)
    wholesale: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        invoiced[row.invoiced.currency] += row.invoiced.amount
        wholesale[row.invoiced.currency] += row.wholesale.amount
    totals = [MarginTotal(invoiced=Money(invoiced[currency], currency), wholesale=Money(wholesale[currency], currency))
              for currency in sorted(invoiced)]
    return MarginReport(rows=rows, totals=totals, missing_prices=reseller_prices_missing(agency=agency))
