"""Reads on the plan catalogue. `entitlements_for` is the one place anything asks what a tenant may use."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Case, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from billing.analytics.selectors import headline_currency, revenue_headlines, revenue_months, snapshot_latest_day
from billing.models import (
    CURRENT_STATUSES,
    BillingProfile,
    Dispute,
    DunningCase,
    Invoice,
    Payment,
    Plan,
    PlanQuota,
    Price,
    ReconciliationDisagreement,
    ServiceQuote,
    Subscription,
    TenantPlan,
    UsageCharge,
)
from config.lookup_cache import OUTAGE_LAG_OK_S, lookup_cached, lookup_key
from config.money import Money, currency_minor_units, money_format
from tenants.models import Tenant


@dataclass(frozen=True)
class Quota:
    meter_code: str
    monthly_limit: Decimal
    hard: bool


@dataclass(frozen=True)
class Entitlements:
    plan_code: str
    plan_name: str
    api_requests_per_minute_per_key: int | None
    api_requests_per_minute_per_tenant: int | None
    concurrent_ai_requests: int | None
    monthly_ai_token_allowance: int
    seats: int | None
    custom_domains: int
    team: bool
    sso: bool
    white_label: bool
    client_tenants: bool
    coach_messages_per_day: int | None = None
    remove_powered_by: bool = False
    quotas: dict[str, Quota] = field(default_factory=dict)

    def quota_for(self, meter_code: str) -> Quota | None:
        return self.quotas.get(meter_code)


def entitlements_for(*, tenant: Tenant, now: datetime | None = None) -> Entitlements:
    """What the tenant may use now. From its current subscription: trialing or active, its plan; past due, its
    plan for BILLING_PAST_DUE_GRACE_DAYS after it fell due, then Free until paid; paused, Free. Without a
    current subscription, the plan ops assigned (TenantPlan), else Free.

    Read on every API request, so served from the per-process lookup cache; the subscription services and
    billing.signals forget it when a subscription, a plan, its quotas or an assignment change. The end of the
    grace period is not a change anybody saves, so the cached value holds both answers and the instant
    between them, and the clock (`now`, default the current time) picks one on every read."""
    grant = lookup_cached(entitlements_key(tenant.pk), lambda: _grant_load(tenant), stale_ok_s=OUTAGE_LAG_OK_S)
    if grant.until is not None and (now or timezone.now()) >= grant.until:
        return grant.after
    return grant.entitlements


def entitlements_key(tenant_id: int) -> str:
    return lookup_key("entitlements", tenant_id)


@dataclass(frozen=True)
class _Grant:
    """The entitlements that apply until `until` (forever when None), and those that apply from then on."""

    entitlements: Entitlements
    until: datetime | None = None
    after: Entitlements | None = None


def _grant_load(tenant: Tenant) -> _Grant:
    subscription = (Subscription.objects.select_related("plan").filter(tenant=tenant, status__in=CURRENT_STATUSES)
                    .first())
    if subscription is None:
        assignment = TenantPlan.objects.select_related("plan").filter(tenant=tenant).first()
        return _Grant(_entitlements_of(assignment.plan if assignment else _free_plan()))
    if subscription.status == Subscription.Status.PAUSED:
        return _Grant(_entitlements_of(_free_plan()))
    if subscription.status == Subscription.Status.PAST_DUE:
        since = subscription.past_due_since or subscription.updated_at
        return _Grant(_entitlements_of(subscription.plan),
                      until=since + timedelta(days=settings.BILLING_PAST_DUE_GRACE_DAYS),
                      after=_entitlements_of(_free_plan()))
    return _Grant(_entitlements_of(subscription.plan))


def _free_plan() -> Plan | None:
    return Plan.objects.filter(code=settings.BILLING_FREE_PLAN_CODE).first()


def _entitlements_of(plan: Plan | None) -> Entitlements:
    if plan is None:
        return Entitlements(plan_code="none", plan_name="No plan", api_requests_per_minute_per_key=None,
                            api_requests_per_minute_per_tenant=None, concurrent_ai_requests=None,
                            monthly_ai_token_allowance=0, seats=None, custom_domains=0, team=False, sso=False,
                            white_label=False, client_tenants=False)
    quotas = {
        quota.meter_code: Quota(meter_code=quota.meter_code, monthly_limit=quota.monthly_limit,
                                hard=quota.behaviour == PlanQuota.Behaviour.HARD)
        for quota in plan.quotas.all()
    }
    return Entitlements(
        plan_code=plan.code, plan_name=plan.name,
        api_requests_per_minute_per_key=plan.api_requests_per_minute_per_key,
        api_requests_per_minute_per_tenant=plan.api_requests_per_minute_per_tenant,
        concurrent_ai_requests=plan.concurrent_ai_requests,
        monthly_ai_token_allowance=plan.monthly_ai_token_allowance, seats=plan.seats,
        custom_domains=plan.custom_domains, team=plan.team, sso=plan.sso, white_label=plan.white_label,
        client_tenants=plan.client_tenants, coach_messages_per_day=plan.coach_messages_per_day,
        remove_powered_by=plan.remove_powered_by, quotas=quotas,
    )


def plan_list_public() -> list[Plan]:
    """Public, active plans in catalogue order, with their quotas and their active prices (each with its usage
    charges) prefetched as `prices`."""
    prices = Price.objects.filter(is_active=True).prefetch_related("usage_charges").order_by("currency", "interval",
                                                                                              "code")
    return list(Plan.objects.filter(is_public=True, is_active=True)
                .prefetch_related("quotas", Prefetch("prices", queryset=prices)))


def price_get(*, code: str) -> Price | None:
    """The price with this code, whatever its plan or state: the subscription services decide whether it may be
    used."""
    return Price.objects.select_related("plan").filter(code=code).first()


def tenant_plan(tenant: Tenant) -> Plan | None:
    """The plan ops assigned to the tenant, else Free (subscriptions are read through billing.subscriptions)."""
    assignment = TenantPlan.objects.select_related("plan").filter(tenant=tenant).first()
    return assignment.plan if assignment else _free_plan()


# --- Billing page and pricing page -------------------------------------------------------------------------

def billing_profile_get(*, tenant: Tenant) -> BillingProfile | None:
    return BillingProfile.objects.filter(tenant=tenant).first()


def price_list_self_serve(*, currency: str | None = None) -> QuerySet[Price]:
    """The prices a tenant may choose by itself: active, of public, active plans that are not sold through sales,
    Free left out (it is where a tenant without a subscription already is)."""
    prices = (Price.objects.filter(is_active=True, plan__is_active=True, plan__is_public=True,
                                   plan__contact_sales=False)
              .exclude(plan__code=settings.BILLING_FREE_PLAN_CODE).select_related("plan")
              # USD, the catalogue's main currency, first: the first price is the form's default choice.
              .annotate(other_currency=Case(When(currency="USD", then=Value(0)), default=Value(1)))
              .order_by("plan__sort_order", "plan__code", "other_currency", "currency", "fixed_amount"))
    return prices.filter(currency=currency) if currency else prices


@dataclass(frozen=True)
class PublicPrice:
    price: Price
    amount: Money
    # What each usage charge costs, in words ("API calls: 0.05 USD per 1,000 calls beyond 100,000 a month").
    usage: list[str]
    seats: str


@dataclass(frozen=True)
class PublicPlan:
    plan: Plan
    monthly: PublicPrice | None
    annual: PublicPrice | None
    contact_sales: bool

    @property
    def annual_saving_percent(self) -> int | None:
        """Whole percent an annual price saves over twelve monthly ones, when it saves anything."""
        if not (self.monthly and self.annual and self.monthly.amount.amount):
            return None
        twelve = self.monthly.amount.amount * 12
        saving = int((twelve - self.annual.amount.amount) * 100 / twelve)
        return saving if saving > 0 else None


@dataclass(frozen=True)
class PublicPriceList:
    currency: str
    plans: list[PublicPlan]
    token_price_per_1000: Money | None


def public_price_list(*, currency: str = "USD") -> PublicPriceList:
    """The pricing page's catalogue: every active plan that is public or sold through sales, with its monthly and
    annual price in `currency` (None when it has none; always None for a plan sold through sales), its usage
    charges in words, and the price of AI tokens beyond the allowance."""
    plans = list(Plan.objects.filter(Q(is_public=True) | Q(contact_sales=True), is_active=True)
                 .order_by("sort_order", "code"))
    prices = (Price.objects.filter(plan__in=plans, currency=currency, is_active=True,
                                   interval__in=[Price.Interval.MONTH, Price.Interval.YEAR])
              .prefetch_related("usage_charges").order_by("-created_at", "-id"))
    by_plan: dict[tuple[int, str], Price] = {}
    # Newest first: ops replace a price by creating a new one, and the page shows the replacement.
    for price in prices:
        by_plan.setdefault((price.plan_id, price.interval), price)
    token_price = settings.BILLING_TOKEN_PRICE_PER_1000.get(currency)
    return PublicPriceList(
        currency=currency,
        plans=[PublicPlan(plan=plan, contact_sales=plan.contact_sales,
                          monthly=None if plan.contact_sales else _public_price(by_plan.get((plan.pk, "month"))),
                          annual=None if plan.contact_sales else _public_price(by_plan.get((plan.pk, "year"))))
               for plan in plans],
        token_price_per_1000=Money(Decimal(token_price), currency) if token_price is not None else None,
    )


def _public_price(price: Price | None) -> PublicPrice | None:
    if price is None:
        return None
    return PublicPrice(price=price, amount=price.fixed_money,
                       usage=[usage_charge_words(charge) for charge in price.usage_charges.all()],
                       seats=_seats_words(price))


def _seats_words(price: Price) -> str:
    seats = f"{price.included_seats} seat{'s' if price.included_seats != 1 else ''} included"
    if price.per_seat_amount:
        return f"{seats}, then {_unit_money(price.per_seat_amount, price.currency)} per extra seat"
    return seats


PERIOD_WORDS = {Price.Interval.MONTH: "a month", Price.Interval.QUARTER: "a quarter", Price.Interval.YEAR: "a year"}


def usage_charge_words(charge: UsageCharge) -> str:
    """A usage charge as a customer reads it, e.g. "API calls: 0.05 USD per 1,000 calls beyond 100,000 a month".
    Tiers are listed; a minimum is mentioned. The charge's units are its `unit_name` (after `divide_by`)."""
    properties, currency, unit = charge.properties or {}, charge.price.currency, charge.unit_name
    model = UsageCharge.ChargeModel
    free = charge.included_units
    if charge.charge_model == model.PACKAGE:
        free += Decimal(properties.get("free_units") or "0")
        size = Decimal(properties["package_size"])
        words = f"{_unit_money(Decimal(properties['amount']), currency)} per {_number(size)} {unit}"
    elif charge.charge_model == model.STANDARD:
        words = f"{_unit_money(Decimal(properties['unit_amount']), currency)} per {_singular(unit)}"
    elif charge.charge_model in (model.GRADUATED, model.VOLUME):
        words = _tiers_words(properties.get("tiers", []), currency=currency, unit=unit,
                             volume=charge.charge_model == model.VOLUME)
    elif charge.charge_model == model.PERCENTAGE:
        words = f"{_number(Decimal(properties['rate']))} % of each transaction"
        if Decimal(properties.get("fixed_amount") or "0"):
            words += f" + {_unit_money(Decimal(properties['fixed_amount']), currency)}"
    else:
        words = "of the value: " + ", then ".join(
            f"{_number(Decimal(tier['rate']))} % "
            + (f"up to {_number(Decimal(tier['up_to']))}" if tier.get("up_to") is not None else "beyond")
            for tier in properties.get("tiers", []))
    if free:
        words += f" beyond {_number(free)} {PERIOD_WORDS.get(charge.price.interval, '')}".rstrip()
    if charge.minimum_amount:
        words += f" (at least {_unit_money(charge.minimum_amount, currency)} {PERIOD_WORDS[charge.price.interval]})"
    return f"{charge.name}: {words}"


def _tiers_words(tiers: list[dict], *, currency: str, unit: str, volume: bool) -> str:
    parts, lower = [], Decimal(0)
    for tier in tiers:
        price = f"{_unit_money(Decimal(tier['unit_amount']), currency)} per {_singular(unit)}"
        flat = Decimal(tier.get("flat_amount") or "0")
        if flat:
            price += f" + {_unit_money(flat, currency)}"
        if tier.get("up_to") is None:
            parts.append(f"{price} beyond {_number(lower)}" if lower else price)
        else:
            parts.append(f"{price} up to {_number(Decimal(tier['up_to']))}")
            lower = Decimal(tier["up_to"])
    prefix = "the tier the total reaches prices every unit: " if volume else ""
    return prefix + ", then ".join(parts)


def _singular(unit: str) -> str:
    # Unit names are plural ("calls", "hours"); "per call" reads better than "per 1 calls".
    return unit[:-1] if unit.endswith("s") and not unit.endswith("ss") else unit


def _number(value: Decimal) -> str:
    whole, _, fraction = format(value.normalize(), "f").partition(".")
    return f"{int(whole):,}" + (f".{fraction}" if fraction else "")


def _unit_money(amount: Decimal, currency: str) -> str:
    """At least the currency's decimals, more when the price has them (0.00005 per call)."""
    places = max(-amount.normalize().as_tuple().exponent, currency_minor_units(currency)) if amount else None
    return money_format(Money(amount, currency), places=places)


@dataclass(frozen=True)
class AttentionCounts:
    """What waits for ops, for the admin's home page."""

    subscriptions_past_due: int
    quotes_awaiting_price: int
    invoices_in_draft: int
    payments_in_dunning: int
    payments_awaiting_action: int
    disputes_open: int
    reconciliation_disagreements: int


def ops_attention_counts() -> AttentionCounts:
    return AttentionCounts(
        subscriptions_past_due=Subscription.objects.filter(status=Subscription.Status.PAST_DUE).count(),
        quotes_awaiting_price=ServiceQuote.objects.filter(status=ServiceQuote.Status.REQUESTED).count(),
        invoices_in_draft=Invoice.objects.filter(status=Invoice.Status.DRAFT).count(),
        payments_in_dunning=DunningCase.objects.filter(status=DunningCase.Status.ACTIVE).count(),
        # Only while the invoice is still open: once paid, voided or written off nobody waits for the cardholder.
        payments_awaiting_action=Payment.objects.filter(status=Payment.Status.REQUIRES_ACTION,
                                                        invoice__status=Invoice.Status.OPEN).count(),
        disputes_open=Dispute.objects.exclude(status__in=Dispute.CLOSED_STATUSES).count(),
        reconciliation_disagreements=ReconciliationDisagreement.objects.filter(
            status=ReconciliationDisagreement.Status.OPEN).count(),
    )


@dataclass(frozen=True)
class OpsRevenueHeadline:
    """The revenue figures the admin's home page opens with, in the headline currency, from the latest daily
    snapshot (billing.analytics): the dashboard has the rest, and every other currency."""

    day: date
    currency: str
    mrr: Decimal
    arr: Decimal
    net_new_mrr_this_month: Decimal
    subscriptions_active: int
    subscriptions_trialing: int
    failed_amount: Decimal
    recovered_amount: Decimal
    months: int

    @property
    def failed_recovered_percent(self) -> Decimal | None:
        """Of the money whose payment failed in the last `months` months, the share paid in the end (one decimal)."""
        if not self.failed_amount:
            return None
        return (self.recovered_amount * 100 / self.failed_amount).quantize(Decimal("0.1"))


def ops_revenue_headline() -> OpsRevenueHeadline | None:
    """None until the first snapshot is taken (02:00 UTC by beat, or `revenue_backfill`)."""
    day = snapshot_latest_day()
    if day is None:
        return None
    currency = headline_currency()
    headline = next(one for one in revenue_headlines(day=day) if one.currency == currency)
    figures = revenue_months(currency=currency, day=day)
    return OpsRevenueHeadline(
        day=day, currency=currency, mrr=headline.mrr, arr=headline.arr, net_new_mrr_this_month=figures[-1].net_new,
        subscriptions_active=headline.subscriptions_paying, subscriptions_trialing=headline.subscriptions_trialing,
        failed_amount=sum((figure.failed_amount for figure in figures), Decimal(0)),
        recovered_amount=sum((figure.recovered_amount for figure in figures), Decimal(0)), months=len(figures))


# --- Invoices as other apps see them ------------------------------------------------------------------------

@dataclass(frozen=True)
class InvoiceBrief:
    """What another app may know of one of a tenant's invoices (the Wallet page of the tokens it sells, the
    wallet's services deciding whether an order is settled): enough to show it, link to it and tell where it
    stands, without reading billing's tables itself."""

    id: int
    number: str
    status: str
    amount_due: Money
    due_at: datetime | None
    payment_instructions: str

    @property
    def is_open(self) -> bool:
        return self.status in (Invoice.Status.OPEN, Invoice.Status.UNCOLLECTIBLE)

    @property
    def is_paid(self) -> bool:
        return self.status == Invoice.Status.PAID

    @property
    def is_void(self) -> bool:
        return self.status == Invoice.Status.VOID


def invoice_briefs(*, tenant: Tenant, invoice_ids: Collection[int]) -> dict[int, InvoiceBrief]:
    """The tenant's invoices among `invoice_ids`, by id; another tenant's are simply not there. A draft has no
    number yet; the payment instructions are those printed on the invoice (manual collection only)."""
    invoices = Invoice.objects.filter(tenant=tenant, pk__in=list(invoice_ids)).only(
        "id", "number", "status", "currency", "amount_due", "due_at", "issuer", "collection_method")
    return {invoice.pk: InvoiceBrief(
        id=invoice.pk, number=invoice.number or "", status=invoice.status,
        amount_due=Money(invoice.amount_due, invoice.currency), due_at=invoice.due_at,
        payment_instructions=(invoice.issuer or {}).get("payment_instructions", "")
        if invoice.collection_method == "manual" else "",
    ) for invoice in invoices}
