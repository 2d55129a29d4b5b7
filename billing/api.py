"""Billing API: the plan catalogue, the tenant's subscription (preview, start or change, cancel, reactivate), its
invoices (JSON and PDF), the upcoming invoice, credit notes, the account credit and AI-token pack orders.

Money is `{"amount": "12.34", "currency": "USD"}` everywhere (config.money.money_to_api): amounts an invoice or a
price states are shown to the currency's minor units; exact amounts (unit prices, tier parts) unrounded.

Reads need the `read` scope (staff: the view_billing action; the catalogue: use_product); changes need the
`billing` scope (staff: manage_billing) and an Idempotency-Key, because they issue invoices. The views call the
billing services and selectors and nothing else decides here: refusals are the services' DomainErrors.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from django.db import DatabaseError
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Action
from billing.errors import BillingError, PriceUnavailable
from billing.invoicing.credit import account_credit_balance, account_credit_entries
from billing.invoicing.drafting import DraftLine, InvoiceDraft, plan_comparison, upcoming_invoice
from billing.invoicing.pdf import invoice_pdf
from billing.invoicing.selectors import credit_note_list, invoice_get, invoice_list
from billing.models import CreditNote, Invoice, InvoiceLine, Plan, Price, Subscription
from billing.models.invoices import ISSUED_STATUS_CHOICES
from billing.payments.self_service import purchase_checkout_url_create
from billing.selectors import plan_list_public, price_get, price_list_self_serve
from billing.subscriptions.selectors import subscription_current
from billing.subscriptions.services import (
    promotion_code_redeem,
    subscription_cancel,
    subscription_change,
    subscription_change_preview,
    subscription_reactivate,
    subscription_start,
)
from billing.token_packs import token_pack_purchase
from config.api.errors import ApiError
from config.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from config.api.idempotency import idempotent_response
from config.api.pagination import ApiCursorPagination
from config.api.schema import IDEMPOTENCY_KEY_HEADER, error_responses, scopes_note
from config.api.serializers import StrictCharField, StrictInputSerializer
from config.money import Money, money_round, money_to_api
from metering.models import TokenPurchase
from metering.wallets.selectors import token_pack_list_active
from metering.wallets.services import TokenPackUnavailable

MAX_SEATS = 10_000
# An invoice number as the numbering writes it (TG-2026-000123); anything else cannot name an invoice.
_NUMBER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,29}")


class SubscriptionMissing(BillingError):
    """The tenant has no current subscription to preview, cancel or reactivate."""

    code = "no_subscription"
    status = 409


def _price_by_code(code: str) -> Price:
    price = price_get(code=code)
    if price is None:
        raise PriceUnavailable("No price has this code.", field="price")
    return price


# --- Shared serializer pieces -----------------------------------------------------------------------------------

def _plain(value: Decimal) -> str:
    """An exact decimal as a plain string without trailing zeros ("120", "0.5")."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _stated(amount: Decimal, currency: str) -> Money:
    """An amount as the invoice or price states it: to the currency's minor units (stored amounts already are;
    this only drops the storage's extra zeros)."""
    return money_round(Money(amount, currency))


def _exact(amount: Decimal | str, currency: str) -> Money:
    return Money(Decimal(_plain(Decimal(amount))), currency)


@extend_schema_serializer(component_name="Money")
class MoneySerializer(serializers.Serializer):
    amount = serializers.CharField(help_text="A decimal string, e.g. \"12.34\" (never a JSON number).")
    currency = serializers.CharField(help_text="ISO 4217, e.g. USD.")

    def to_representation(self, instance: Money) -> dict[str, str]:
        return money_to_api(instance)


@extend_schema_field(MoneySerializer)
class MoneyField(serializers.Field):
    def to_representation(self, value: Money) -> dict[str, str]:
        return money_to_api(value)


class PriceCodeField(StrictCharField):
    """A price code, documented as the self-serve prices the billing page offers at the time the schema is
    generated (prices are data ops change), so a schema-valid code is one a tenant may choose."""


class PriceCodeFieldSchema(OpenApiSerializerFieldExtension):
    target_class = PriceCodeField

    def map_serializer_field(self, auto_schema, direction) -> dict:
        try:
            codes = sorted(price.code for price in price_list_self_serve())
        except DatabaseError:
            # The schema is also generated with no migrated database (`check --deploy` at build time).
            return {"type": "string", "maxLength": 60, "pattern": r"^[-a-zA-Z0-9_]+$"}
        return {"type": "string", "enum": codes}


IDEMPOTENCY_KEY_REQUIRED = OpenApiParameter(
    name=IDEMPOTENCY_KEY_HEADER.name, location=OpenApiParameter.HEADER, required=True,
    type=IDEMPOTENCY_KEY_HEADER.type,
    description="Required: this request issues or changes invoices. " + IDEMPOTENCY_KEY_HEADER.description,
)


def _idempotency_key_require(request) -> None:
    if request.headers.get(IDEMPOTENCY_HEADER) is None:
        raise ApiError(status_code=400, code="invalid_request",
                       message=f"Send an {IDEMPOTENCY_HEADER} header: this request moves money, so a retry must "
                               "be safe.",
                       details={"fields": {IDEMPOTENCY_HEADER: ["This header is required."]}})


def _actor(request) -> str:
    # A person's email, or "api-key:<prefix>" for a key (tenants.authentication.ApiKeyPrincipal).
    return request.user.email


# --- Plans --------------------------------------------------------------------------------------------------------

@extend_schema_serializer(component_name="UsageCharge")
class UsageChargeSerializer(serializers.Serializer):
    meter = serializers.CharField(help_text="The meter whose usage is charged.")
    name = serializers.CharField()
    unit_name = serializers.CharField()
    charge_model = serializers.CharField(help_text="standard, graduated, volume, package, percentage or "
                                                   "graduated_percentage (see the README).")
    properties = serializers.DictField(help_text="The charge model's terms; amounts are decimal strings in the "
                                                 "price's currency.")
    divide_by = serializers.CharField(help_text="The meter's quantity is billed in units of this many.")
    included_units = serializers.CharField(help_text="Free units per period, before the charge model applies.")
    minimum_amount = MoneyField(help_text="The least this charge bills per period.")


@extend_schema_serializer(component_name="Price")
class PriceSerializer(serializers.Serializer):
    code = serializers.CharField()
    currency = serializers.CharField()
    interval = serializers.ChoiceField(choices=Price.Interval.choices)
    fixed_amount = MoneyField(help_text="Charged at the start of each period.")
    per_seat_amount = MoneyField(help_text="Per seat beyond the included seats, per period.")
    included_seats = serializers.IntegerField()
    trial_days = serializers.IntegerField()
    usage_charges = UsageChargeSerializer(many=True, help_text="Billed in arrears for the period just closed.")


@extend_schema_serializer(component_name="PlanQuota")
class QuotaSerializer(serializers.Serializer):
    meter = serializers.CharField()
    monthly_limit = serializers.CharField()
    behaviour = serializers.ChoiceField(choices=["soft", "hard"])


@extend_schema_serializer(component_name="Plan")
class PlanSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    contact_sales = serializers.BooleanField(help_text="Not self-serve: no prices are listed; ask sales.")
    seats = serializers.IntegerField(allow_null=True, help_text="Null: unlimited.")
    custom_domains = serializers.IntegerField()
    team = serializers.BooleanField()
    sso = serializers.BooleanField()
    white_label = serializers.BooleanField()
    client_tenants = serializers.BooleanField()
    concurrent_ai_requests = serializers.IntegerField(allow_null=True, help_text="Null: unlimited.")
    monthly_ai_token_allowance = serializers.IntegerField()
    api_requests_per_minute_per_key = serializers.IntegerField(allow_null=True, help_text="Null: unlimited.")
    api_requests_per_minute_per_tenant = serializers.IntegerField(allow_null=True, help_text="Null: unlimited.")
    quotas = QuotaSerializer(many=True)
    prices = PriceSerializer(many=True)


def _price_data(price: Price) -> dict:
    currency = price.currency
    return {
        "code": price.code, "currency": currency, "interval": price.interval,
        "fixed_amount": _stated(price.fixed_amount, currency),
        "per_seat_amount": _stated(price.per_seat_amount, currency),
        "included_seats": price.included_seats, "trial_days": price.trial_days,
        "usage_charges": [{
            "meter": charge.meter_code, "name": charge.name, "unit_name": charge.unit_name,
            "charge_model": charge.charge_model, "properties": charge.properties,
            "divide_by": _plain(charge.divide_by), "included_units": _plain(charge.included_units),
            "minimum_amount": _stated(charge.minimum_amount, currency),
        } for charge in price.usage_charges.all()],
    }


def _plan_data(plan: Plan) -> dict:
    return {
        "code": plan.code, "name": plan.name, "description": plan.description, "contact_sales": plan.contact_sales,
        "seats": plan.seats, "custom_domains": plan.custom_domains, "team": plan.team, "sso": plan.sso,
        "white_label": plan.white_label, "client_tenants": plan.client_tenants,
        "concurrent_ai_requests": plan.concurrent_ai_requests,
        "monthly_ai_token_allowance": plan.monthly_ai_token_allowance,
        "api_requests_per_minute_per_key": plan.api_requests_per_minute_per_key,
        "api_requests_per_minute_per_tenant": plan.api_requests_per_minute_per_tenant,
        "quotas": [{"meter": quota.meter_code, "monthly_limit": _plain(quota.monthly_limit),
                    "behaviour": quota.behaviour} for quota in plan.quotas.all()],
        "prices": [] if plan.contact_sales else [_price_data(price) for price in plan.prices.all()],
    }


class PlanListApi(APIView):
    required_scopes = {"GET": "read"}
    # The catalogue is public (the pricing page shows it): anyone who uses the product may read it.
    required_actions = {"GET": Action.USE_PRODUCT}

    @extend_schema_serializer(component_name="PlanList")
    class OutputSerializer(serializers.Serializer):
        data = PlanSerializer(many=True)

    @extend_schema(operation_id="plans_list", summary="Public plans and their prices",
                   description=scopes_note("read") + " Every public, active plan with its limits, quotas and "
                   "active prices (each with its usage charges), in catalogue order. Plans sold through sales "
                   "(contact_sales) list no prices.",
                   responses={200: OutputSerializer, **error_responses(401, 403)})
    def get(self, request):
        return Response(self.OutputSerializer({"data": [_plan_data(plan) for plan in plan_list_public()]}).data)


@extend_schema_serializer(component_name="Period")
class PeriodSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(help_text="Exclusive.")


def _period(bounds: tuple[datetime, datetime] | None) -> dict | None:
    return None if bounds is None else {"start": bounds[0], "end": bounds[1]}


@extend_schema_serializer(component_name="PlanCost")
class PlanCostSerializer(serializers.Serializer):
    plan = serializers.CharField()
    plan_name = serializers.CharField()
    price = serializers.CharField()
    last_period = MoneyField(allow_null=True, help_text="Null when there is no closed period to compare.")
    current_period = MoneyField(help_text="The current period up to now.")
    is_current = serializers.BooleanField(help_text="The tenant's own plan.")


class PlanCompareApi(APIView):
    required_scopes = {"GET": "read"}
    required_actions = {"GET": Action.VIEW_BILLING}

    @extend_schema_serializer(component_name="PlanComparison")
    class OutputSerializer(serializers.Serializer):
        currency = serializers.CharField()
        last_period = PeriodSerializer(allow_null=True)
        current_period = PeriodSerializer()
        plans = PlanCostSerializer(many=True)

    @extend_schema(operation_id="plans_compare", summary="What every plan would cost with your real usage",
                   description=scopes_note("read") + " For the last closed period and the current one so far, "
                   "what each public self-serve plan would cost with the tenant's own usage and seats (fixed fee, "
                   "extra seats, usage charges; before discounts and tax), rated by the same code as the invoices. "
                   "Prices in the subscription's currency and interval (USD monthly, calendar months, without one).",
                   responses={200: OutputSerializer, **error_responses(401, 403)})
    def get(self, request):
        comparison = plan_comparison(tenant=request.tenant, now=timezone.now())
        return Response(self.OutputSerializer({
            "currency": comparison.currency,
            "last_period": _period(comparison.last_period),
            "current_period": _period(comparison.current_period),
            "plans": [{"plan": cost.plan.code, "plan_name": cost.plan.name, "price": cost.price.code,
                       "last_period": cost.last_period, "current_period": cost.current_period,
                       "is_current": cost.is_current} for cost in comparison.plans],
        }).data)


# --- Subscription ---------------------------------------------------------------------------------------------

@extend_schema_serializer(component_name="Subscription")
class SubscriptionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Subscription.Status.choices)
    plan = serializers.CharField()
    plan_name = serializers.CharField()
    price = PriceSerializer()
    quantity = serializers.IntegerField(help_text="Seats.")
    current_period_start = serializers.DateTimeField()
    current_period_end = serializers.DateTimeField(help_text="Exclusive; the trial's end while trialing.")
    trial_end = serializers.DateTimeField(allow_null=True)
    cancel_at_period_end = serializers.BooleanField()
    canceled_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    scheduled_price = serializers.CharField(allow_null=True, help_text="The price from the next period on "
                                                                       "(a downgrade or interval change).")
    scheduled_quantity = serializers.IntegerField(allow_null=True, help_text="The seats from the next period on.")
    paused_at = serializers.DateTimeField(allow_null=True)
    past_due_since = serializers.DateTimeField(allow_null=True)
    billing_anchor = serializers.ChoiceField(choices=Subscription.BillingAnchor.choices)
    collection_method = serializers.ChoiceField(choices=Subscription.CollectionMethod.choices)


@extend_schema_serializer(component_name="SubscriptionState")
class SubscriptionStateSerializer(serializers.Serializer):
    subscription = SubscriptionSerializer(
        allow_null=True, help_text="Null when the tenant has no current subscription (it is on an assigned plan "
                                   "or Free).")


def _subscription_data(subscription: Subscription | None) -> dict | None:
    if subscription is None:
        return None
    return {
        "status": subscription.status, "plan": subscription.plan.code, "plan_name": subscription.plan.name,
        "price": _price_data(subscription.price), "quantity": subscription.quantity,
        "current_period_start": subscription.current_period_start,
        "current_period_end": subscription.current_period_end, "trial_end": subscription.trial_end,
        "cancel_at_period_end": subscription.cancel_at_period_end, "canceled_at": subscription.canceled_at,
        "ended_at": subscription.ended_at,
        "scheduled_price": subscription.scheduled_price.code if subscription.scheduled_price else None,
        "scheduled_quantity": subscription.scheduled_quantity, "paused_at": subscription.paused_at,
        "past_due_since": subscription.past_due_since, "billing_anchor": subscription.billing_anchor,
        "collection_method": subscription.collection_method,
    }


def _state_response(subscription: Subscription | None, *, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(SubscriptionStateSerializer({"subscription": _subscription_data(subscription)}).data,
                    status=status_code)


def _current_or_refuse(request) -> Subscription:
    subscription = subscription_current(tenant=request.tenant)
    if subscription is None:
        raise SubscriptionMissing("There is no current subscription. Start one with POST /api/v1/subscription.")
    return subscription


class SubscriptionApi(APIView):
    required_scopes = {"GET": "read", "POST": "billing"}
    required_actions = {"GET": Action.VIEW_BILLING, "POST": Action.MANAGE_BILLING}

    @extend_schema_serializer(component_name="SubscriptionChange")
    class InputSerializer(StrictInputSerializer):
        price = PriceCodeField(required=False, max_length=60, help_text="The price to move to (or start on).")
        quantity = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SEATS, help_text="Seats.")
        promotion_code = StrictCharField(required=False, max_length=40,
                                         help_text="Redeemed on the subscription; its coupon discounts the next "
                                                   "invoices.")

        def validate(self, attrs: dict) -> dict:
            if not attrs:
                raise serializers.ValidationError({"price": ["Send price, quantity or promotion_code."]})
            return attrs

    @extend_schema(operation_id="subscription_retrieve", summary="The current subscription",
                   description=scopes_note("read") + " `subscription` is null when there is none (the tenant "
                   "is then on the plan ops assigned, or Free): that is a state, not an error.",
                   responses={200: SubscriptionStateSerializer, **error_responses(401, 403)})
    def get(self, request):
        return _state_response(subscription_current(tenant=request.tenant))

    @extend_schema(
        operation_id="subscription_change", summary="Start or change the subscription",
        description=scopes_note("billing") + " Without a current subscription, starts one on `price` (required "
        "then) with `quantity` seats (default 1): trialing when the price has trial days and the tenant never had "
        "a trial, otherwise the first period is invoiced at once; answers 201. With one, changes its price and/or "
        "seats as POST /api/v1/subscription/preview describes (upgrades and more seats now, prorated; downgrades "
        "and fewer seats at the period end; interval changes now, with a new period) and answers 200. "
        "`promotion_code` is redeemed on the (new) subscription, in the same transaction: a refused code changes "
        "nothing. Refusals: price_unavailable, plan_limits_exceeded (details.blockers says what must change "
        "first), subscription_state_invalid, coupon_invalid.",
        request=InputSerializer, parameters=[IDEMPOTENCY_KEY_REQUIRED],
        responses={200: SubscriptionStateSerializer, 201: SubscriptionStateSerializer,
                   **error_responses(400, 401, 403, 409, 413, 415)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _idempotency_key_require(request)
        return idempotent_response(request, execute=lambda: self._apply(request, **data.validated_data))

    def _apply(self, request, *, price: str | None = None, quantity: int | None = None,
               promotion_code: str | None = None) -> Response:
        now, actor = timezone.now(), _actor(request)
        new_price = _price_by_code(price) if price is not None else None
        subscription = subscription_current(tenant=request.tenant)
        if subscription is None:
            if new_price is None:
                raise PriceUnavailable("Choose a price to start a subscription.", field="price")
            subscription_start(tenant=request.tenant, price=new_price, quantity=quantity or 1, actor=actor, now=now,
                               promotion_code=promotion_code)
            return _state_response(subscription_current(tenant=request.tenant), status_code=status.HTTP_201_CREATED)
        if new_price is not None or quantity is not None:
            subscription = subscription_change(subscription=subscription, price=new_price, quantity=quantity,
                                               actor=actor, now=now)
        if promotion_code is not None:
            promotion_code_redeem(subscription=subscription, code=promotion_code, actor=actor, now=now)
        return _state_response(subscription_current(tenant=request.tenant))


@extend_schema_serializer(component_name="ProrationLine")
class ProrationLineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    description = serializers.CharField()
    amount = MoneySerializer(help_text="Negative for unused time credited.")
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()


@extend_schema_serializer(component_name="LimitBlocker")
class BlockerSerializer(serializers.Serializer):
    limit = serializers.CharField(help_text="seats, custom_domains or client_tenants.")
    allowed = serializers.IntegerField()
    in_use = serializers.IntegerField()
    message = serializers.CharField()


class SubscriptionPreviewApi(APIView):
    # It changes nothing, so reading is enough: people who may see billing may ask what a change would do.
    required_scopes = {"POST": "read"}
    required_actions = {"POST": Action.VIEW_BILLING}

    @extend_schema_serializer(component_name="SubscriptionPreviewRequest")
    class InputSerializer(StrictInputSerializer):
        price = PriceCodeField(required=False, max_length=60)
        quantity = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SEATS)

        def validate(self, attrs: dict) -> dict:
            if not attrs:
                raise serializers.ValidationError({"price": ["Send price and/or quantity."]})
            return attrs

    @extend_schema_serializer(component_name="SubscriptionPreview")
    class OutputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=["upgrade", "downgrade", "interval_change", "seats_up", "seats_down"])
        effective = serializers.ChoiceField(choices=["now", "period_end"])
        effective_at = serializers.DateTimeField()
        price = serializers.CharField()
        quantity = serializers.IntegerField()
        invoice_now = serializers.BooleanField(help_text="The prorations are invoiced at once (otherwise with the "
                                                         "next invoice).")
        lines = ProrationLineSerializer(many=True, help_text="Each rounded once, as the invoice will round it.")
        total = MoneySerializer(help_text="The sum of the rounded lines, before any discount or tax.")
        new_period = serializers.ListField(child=serializers.DateTimeField(), allow_null=True, min_length=2,
                                           max_length=2, help_text="[start, end) of the period an interval change "
                                                                   "starts.")
        blockers = BlockerSerializer(many=True, help_text="What must change before this change can be made; "
                                                          "empty when it can.")

    @extend_schema(
        operation_id="subscription_preview", summary="What a change would do, before making it",
        description=scopes_note("read") + " The proration lines (credit for unused time, charge for the rest of "
        "the period, to the second), whether the change applies now or at the period end, and what the tenant "
        "must change first when the target plan cannot hold its current use. Changes nothing.",
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 401, 403, 409, 413, 415)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = _current_or_refuse(request)
        code = data.validated_data.get("price")
        preview = subscription_change_preview(subscription=subscription,
                                              price=_price_by_code(code) if code is not None else None,
                                              quantity=data.validated_data.get("quantity"), now=timezone.now())
        return Response(preview.as_dict())


class SubscriptionCancelApi(APIView):
    required_scopes = {"POST": "billing"}
    required_actions = {"POST": Action.MANAGE_BILLING}

    @extend_schema_serializer(component_name="SubscriptionCancel")
    class InputSerializer(StrictInputSerializer):
        at_period_end = serializers.BooleanField(
            required=False, default=True,
            help_text="true (default): the plan stays until the period ends, and reactivate undoes it. false: "
                      "ends now; the usage so far is invoiced at once.")

    @extend_schema(
        operation_id="subscription_cancel", summary="Cancel the subscription",
        description=scopes_note("billing") + " At the period end by default, or now. Canceling now credits "
        "nothing for the unused time (ops may, in admin).",
        request=InputSerializer, parameters=[IDEMPOTENCY_KEY_REQUIRED],
        responses={200: SubscriptionStateSerializer, **error_responses(400, 401, 403, 409, 413, 415)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _idempotency_key_require(request)
        return idempotent_response(request, execute=lambda: self._cancel(
            request, at_period_end=data.validated_data["at_period_end"]))

    def _cancel(self, request, *, at_period_end: bool) -> Response:
        # No prorated credit here: the period's invoice may be unpaid, and credit for unpaid time is free money.
        subscription = subscription_cancel(subscription=_current_or_refuse(request), actor=_actor(request),
                                           now=timezone.now(), at_period_end=at_period_end)
        return _state_response(subscription)


class SubscriptionReactivateApi(APIView):
    required_scopes = {"POST": "billing"}
    required_actions = {"POST": Action.MANAGE_BILLING}

    @extend_schema(
        operation_id="subscription_reactivate", summary="Undo a cancellation at period end",
        description=scopes_note("billing") + " Before the period ends; the subscription then renews as before.",
        request=None, parameters=[IDEMPOTENCY_KEY_REQUIRED],
        responses={200: SubscriptionStateSerializer, **error_responses(400, 401, 403, 409, 413, 415)},
    )
    def post(self, request):
        # No body is expected; one that is there must still be valid JSON without fields.
        StrictInputSerializer(data=request.data).is_valid(raise_exception=True)
        _idempotency_key_require(request)
        return idempotent_response(request, execute=lambda: self._reactivate(request))

    def _reactivate(self, request) -> Response:
        subscription = subscription_reactivate(subscription=_current_or_refuse(request), actor=_actor(request),
                                               now=timezone.now())
        return _state_response(subscription)


# --- Invoices -------------------------------------------------------------------------------------------------

# The fields of a breakdown part that are amounts of money (the others are units, rates and bounds).
_PART_MONEY = ("amount", "unit_amount", "flat_amount")
_PART_TEXT = ("units", "from_value", "to_value", "rate", "package_size")


@extend_schema_serializer(component_name="BreakdownPart")
class BreakdownPartSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="tier, units, packages, free_units, included_units, free_allowance, "
                                           "percentage, fixed_fee, minimum or maximum.")
    units = serializers.CharField(allow_null=True, help_text="What the part prices (units, packages, value).")
    amount = MoneyField(allow_null=True, help_text="Exact, before the line is rounded.")
    tier = serializers.IntegerField(allow_null=True)
    from_value = serializers.CharField(allow_null=True, help_text="The tier's lower bound (excluded).")
    to_value = serializers.CharField(allow_null=True, help_text="The tier's upper bound (included); null for the "
                                                                "last tier.")
    unit_amount = MoneyField(allow_null=True)
    rate = serializers.CharField(allow_null=True, help_text="Percent.")
    flat_amount = MoneyField(allow_null=True)
    package_size = serializers.CharField(allow_null=True)
    events = serializers.IntegerField(allow_null=True)


@extend_schema_serializer(component_name="InvoiceLine")
class LineSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=InvoiceLine.Kind.choices)
    description = serializers.CharField()
    period_start = serializers.DateTimeField(allow_null=True)
    period_end = serializers.DateTimeField(allow_null=True)
    quantity = serializers.CharField()
    unit_amount = MoneyField(allow_null=True, help_text="Exact.")
    amount = MoneyField(help_text="Rounded once to the currency's minor units.")
    meter = serializers.CharField(allow_null=True, help_text="Usage lines: the meter.")
    breakdown = BreakdownPartSerializer(many=True, help_text="Usage lines: tier by tier (or package by package).")
    taxable = serializers.BooleanField()


@extend_schema_serializer(component_name="Tax")
class TaxSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True)
    percentage = serializers.CharField(allow_null=True, help_text="Null: no tax applies.")
    inclusive = serializers.BooleanField(help_text="The amounts include the tax.")
    legend = serializers.CharField(allow_blank=True, help_text="e.g. the reverse-charge mention.")


def _part_data(part: dict, currency: str) -> dict:
    data: dict = {"kind": str(part.get("kind", "")), "tier": part.get("tier"), "events": part.get("events")}
    for name in _PART_MONEY:
        data[name] = _exact(part[name], currency) if part.get(name) is not None else None
    for name in _PART_TEXT:
        data[name] = str(part[name]) if part.get(name) is not None else None
    return data


def _line_data(line: InvoiceLine | DraftLine, currency: str) -> dict:
    return {
        "kind": line.kind, "description": line.description, "period_start": line.period_start,
        "period_end": line.period_end, "quantity": _plain(line.quantity),
        "unit_amount": _exact(line.unit_amount, currency) if line.unit_amount is not None else None,
        "amount": _stated(line.amount, currency), "meter": line.meter_code or None,
        "breakdown": [_part_data(part, currency) for part in line.breakdown or []], "taxable": line.taxable,
    }


def _tax_data(*, name: str, percentage: Decimal | None, inclusive: bool, legend: str) -> dict:
    return {"name": name, "percentage": _plain(percentage) if percentage is not None else None,
            "inclusive": inclusive, "legend": legend}


@extend_schema_serializer(component_name="CreditNote")
class CreditNoteSerializer(serializers.Serializer):
    number = serializers.CharField()
    invoice = serializers.CharField(help_text="The number of the invoice it credits.")
    amount = MoneyField()
    reason = serializers.ChoiceField(choices=CreditNote.Reason.choices)
    memo = serializers.CharField(allow_blank=True)
    refund_to = serializers.ChoiceField(choices=CreditNote.RefundTo.choices)
    created_at = serializers.DateTimeField()


def _credit_note_data(note: CreditNote, *, invoice_number: str) -> dict:
    return {"number": note.number, "invoice": invoice_number, "amount": _stated(note.amount, note.currency),
            "reason": note.reason, "memo": note.memo, "refund_to": note.refund_to, "created_at": note.created_at}


# One shape for an invoice, in the list and alone (as Stripe's): a client never needs a second call for lines.
@extend_schema_serializer(component_name="Invoice")
class InvoiceSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=ISSUED_STATUS_CHOICES)
    billing_reason = serializers.ChoiceField(choices=Invoice.Reason.choices)
    currency = serializers.CharField()
    period_start = serializers.DateTimeField(allow_null=True)
    period_end = serializers.DateTimeField(allow_null=True)
    issued_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    voided_at = serializers.DateTimeField(allow_null=True)
    lines = LineSerializer(many=True)
    subtotal = MoneyField()
    discount_total = MoneyField(help_text="Negative or zero.")
    tax = TaxSerializer()
    tax_total = MoneyField()
    total = MoneyField()
    credit_applied = MoneyField(help_text="Taken from the account credit.")
    amount_due = MoneyField()
    amount_paid = MoneyField()
    amount_credited = MoneyField(help_text="By credit notes.")
    customer = serializers.DictField(help_text="The tenant's billing details as they were when issued.")
    issuer = serializers.DictField(help_text="The operator's details as they were when issued.")
    memo = serializers.CharField(allow_blank=True)
    credit_notes = CreditNoteSerializer(many=True)


def _invoice_data(invoice: Invoice) -> dict:
    currency = invoice.currency
    data = {name: getattr(invoice, name) for name in (
        "number", "status", "billing_reason", "currency", "period_start", "period_end", "issued_at", "due_at",
        "paid_at", "voided_at", "customer", "issuer", "memo")}
    for name in ("subtotal", "discount_total", "tax_total", "total", "credit_applied", "amount_due", "amount_paid",
                 "amount_credited"):
        data[name] = _stated(getattr(invoice, name), currency)
    data["lines"] = [_line_data(line, currency) for line in invoice.lines.all()]
    data["tax"] = _tax_data(name=invoice.tax_name, percentage=invoice.tax_percentage,
                            inclusive=invoice.tax_inclusive, legend=invoice.tax_legend)
    data["credit_notes"] = [_credit_note_data(note, invoice_number=invoice.number)
                            for note in invoice.credit_notes.all()]
    return data


class InvoicePagination(ApiCursorPagination):
    ordering = ("-issued_at", "-id")


class InvoiceListApi(APIView):
    pagination_class = InvoicePagination
    required_scopes = {"GET": "read"}
    required_actions = {"GET": Action.VIEW_BILLING}

    @extend_schema(operation_id="invoices_list", summary="Invoices, newest first",
                   description=scopes_note("read") + " Finalised invoices only (open, paid, void, uncollectible): "
                   "a draft may still change and has no number. Each with its lines, as GET "
                   "/api/v1/invoices/{number} answers it.",
                   responses={200: InvoiceSerializer(many=True), **error_responses(400, 401, 403)})
    def get(self, request):
        paginator = self.pagination_class()
        invoices = invoice_list(tenant=request.tenant).prefetch_related("lines", "credit_notes")
        page = paginator.paginate_queryset(invoices, request, view=self)
        return paginator.get_paginated_response(InvoiceSerializer([_invoice_data(inv) for inv in page],
                                                                  many=True).data)


def _invoice_or_404(request, number: str) -> Invoice:
    # A path segment can hold anything (a NUL byte would reach the database): only numbers are looked up.
    invoice = invoice_get(tenant=request.tenant, number=number) if _NUMBER_RE.fullmatch(number) else None
    if invoice is None:
        # Another tenant's number is answered exactly like one that does not exist.
        raise ApiError(status_code=404, code="not_found", message="No invoice with this number.")
    return invoice


class InvoiceDetailApi(APIView):
    required_scopes = {"GET": "read"}
    required_actions = {"GET": Action.VIEW_BILLING}

    @extend_schema(operation_id="invoices_retrieve", summary="One invoice with its lines",
                   description=scopes_note("read") + " Every line with its breakdown (usage tier by tier), the "
                   "tax, the parties as issued and the credit notes against it. Another tenant's number answers "
                   "404 like a number that does not exist.",
                   parameters=[OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH,
                                                description="e.g. TG-2026-000123.")],
                   responses={200: InvoiceSerializer, **error_responses(401, 403, 404)})
    def get(self, request, number: str):
        return Response(InvoiceSerializer(_invoice_data(_invoice_or_404(request, number))).data)


class _JsonErrorsWhateverTheAccept(BaseContentNegotiation):
    """The PDF is an HttpResponse of its own; the JSON renderer is there for errors, which must not turn into
    406 because the client asked for application/pdf."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class InvoicePdfApi(APIView):
    required_scopes = {"GET": "read"}
    required_actions = {"GET": Action.VIEW_BILLING}
    content_negotiation_class = _JsonErrorsWhateverTheAccept

    @extend_schema(operation_id="invoices_pdf", summary="One invoice as a PDF",
                   description=scopes_note("read") + " The same document as the invoice page, A4.",
                   parameters=[OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH,
                                                description="e.g. TG-2026-000123.")],
                   responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF."),
                              **error_responses(401, 403, 404)})
    def get(self, request, number: str):
        invoice = _invoice_or_404(request, number)
        response = HttpResponse(invoice_pdf(invoice=invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
        return response


@extend_schema_serializer(component_name="UpcomingInvoice")
class UpcomingInvoiceSerializer(serializers.Serializer):
    currency = serializers.CharField()
    period_start = serializers.DateTimeField(allow_null=True)
    period_end = serializers.DateTimeField(allow_null=True)
    lines = LineSerializer(many=True)
    tax = TaxSerializer()
    subtotal = MoneyField()
    discount_total = MoneyField(help_text="Negative or zero.")
    tax_total = MoneyField()
    total = MoneyField()
    credit_applied = MoneyField(help_text="The account credit the invoice will take when it is issued.")
    amount_due = MoneyField(help_text="What the tenant will pay: the total less the account credit.")


class UpcomingInvoiceApi(APIView):
    required_scopes = {"GET": "read"}
    required_actions = {"GET": Action.VIEW_BILLING}

    @extend_schema_serializer(component_name="UpcomingInvoiceState")
    class OutputSerializer(serializers.Serializer):
        invoice = UpcomingInvoiceSerializer(allow_null=True, help_text="Null without a subscription, while "
                                            "paused, or when nothing would be billed.")

    @extend_schema(operation_id="invoices_upcoming", summary="The invoice at the end of the current period",
                   description=scopes_note("read") + " What the current subscription will be invoiced when its "
                   "period ends if usage stopped now, computed by the code that will issue it: usage so far in "
                   "arrears, the next period's fees in advance, pending prorations, the discount and tax, and the "
                   "amount due net of the account credit the invoice will take (as it stands now).",
                   responses={200: OutputSerializer, **error_responses(401, 403)})
    def get(self, request):
        draft = upcoming_invoice(tenant=request.tenant, now=timezone.now())
        return Response(self.OutputSerializer({"invoice": _draft_data(draft)}).data)


def _draft_data(draft: InvoiceDraft | None) -> dict | None:
    if draft is None:
        return None
    currency, totals, tax = draft.currency, draft.totals, draft.tax
    return {
        "currency": currency, "period_start": draft.period_start, "period_end": draft.period_end,
        "lines": [_line_data(line, currency) for line in draft.lines],
        "tax": _tax_data(name=tax.name, percentage=tax.percentage, inclusive=tax.inclusive, legend=tax.legend),
        "subtotal": _stated(totals.subtotal, currency), "discount_total": _stated(totals.discount_total, currency),
        "tax_total": _stated(totals.tax_total, currency), "total": _stated(totals.total, currency),
        "credit_applied": _stated(draft.credit_applied.amount, currency),
        "amount_due": _stated(draft.amount_due.amount, currency),
    }


# --- Credit ---------------------------------------------------------------------------------------------------

class CreditNoteListApi(APIView):
    pagination_class = ApiCursorPagination
    required_scopes = {"GET": "read"}
    required_actions = {"GET": Action.VIEW_BILLING}

    @extend_schema(operation_id="credit_notes_list", summary="Credit notes, newest first",
                   description=scopes_note("read") + " Refunds and corrections against the tenant's invoices; "
                   "each went to the account credit.",
                   responses={200: CreditNoteSerializer(many=True), **error_responses(400, 401, 403)})
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(credit_note_list(tenant=request.tenant), request, view=self)
        return paginator.get_paginated_response(CreditNoteSerializer(
            [_credit_note_data(note, invoice_number=note.invoice.number) for note in page], many=True).data)


class CreditBalanceApi(APIView):
    required_scopes = {"GET": "read"}
    required_actions = {"GET": Action.VIEW_BILLING}

    @extend_schema_serializer(component_name="CreditBalance")
    class OutputSerializer(serializers.Serializer):
        balances = MoneySerializer(many=True, help_text="One per currency the tenant holds or is billed in, "
                                                        "zeros included; the next invoices consume it first.")

    @extend_schema(operation_id="credit_balance_retrieve", summary="The account credit",
                   description=scopes_note("read") + " Money the tenant holds with the operator (credit notes, "
                   "promotions, downgrade credits), per currency: every currency it ever had credit in, and its "
                   "subscription's.",
                   responses={200: OutputSerializer, **error_responses(401, 403)})
    def get(self, request):
        tenant = request.tenant
        currencies = set(account_credit_entries(tenant=tenant).order_by()
                         .values_list("account__currency", flat=True).distinct())
        subscription = subscription_current(tenant=tenant)
        if subscription is not None:
            currencies.add(subscription.price.currency)
        balances = [_stated(account_credit_balance(tenant=tenant, currency=currency).amount, currency)
                    for currency in sorted(currencies)]
        return Response(self.OutputSerializer({"balances": balances}).data)


# --- Token packs --------------------------------------------------------------------------------------------------

class TokenPackOrderApi(APIView):
    """Order an AI-token pack: the order is sold on a one-time invoice (billing.token_packs), and with Stripe on the
    answer carries the hosted Checkout page where a person pays it by card. The tokens are credited when the
    invoice is paid (Stripe's webhook, ops, or the account credit at once), never by this call."""

    required_scopes = {"POST": "billing"}
    required_actions = {"POST": Action.MANAGE_BILLING}

    @extend_schema_serializer(component_name="TokenPackOrderCreate")
    class InputSerializer(StrictInputSerializer):
        pack = StrictCharField(max_length=40, help_text="The code of a token pack on sale, e.g. tokens-1m.")

    @extend_schema_serializer(component_name="TokenPackOrder")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField(help_text="The order's number.")
        pack = serializers.CharField()
        tokens = serializers.IntegerField(help_text="Tokens credited when the invoice is paid.")
        price = MoneySerializer()
        status = serializers.ChoiceField(choices=TokenPurchase.Status.choices,
                                         help_text="pending until the invoice is paid (paid: tokens credited).")
        invoice = serializers.CharField(help_text="The number of the invoice the order is sold on.")
        amount_due = MoneySerializer(help_text="What is left to pay (0 when the account credit paid it).")
        checkout_url = serializers.CharField(
            allow_null=True, help_text="The hosted Stripe Checkout page where a person pays the invoice by card "
                                       "(valid about a day); null without Stripe (pay by transfer, as the invoice "
                                       "says) or when nothing is left to pay.")

    @extend_schema(
        operation_id="wallet_purchase_create", summary="Order an AI-token pack",
        description=scopes_note("billing") + " Issues the pack's one-time invoice at once (paid at once when the "
        "account credit covers it). Ordering a pack that already awaits payment answers that order and its "
        "invoice. With Stripe on, `checkout_url` is the invoice's hosted payment page; the tokens are credited "
        "once Stripe confirms the payment. Refusals: token_pack_unavailable (400); payment_provider_unavailable "
        "(503): the order stands, retry with the same Idempotency-Key to get its page.",
        request=InputSerializer, parameters=[IDEMPOTENCY_KEY_REQUIRED],
        responses={201: OutputSerializer, **error_responses(400, 401, 403, 409, 413, 415, 502, 503)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _idempotency_key_require(request)
        return idempotent_response(request, execute=lambda: self._order(request, **data.validated_data))

    def _order(self, request, *, pack: str) -> Response:
        chosen = token_pack_list_active().filter(code=pack).first()
        if chosen is None:
            raise TokenPackUnavailable("No token pack on sale has this code.", field="pack")
        now = timezone.now()
        order = token_pack_purchase(tenant=request.tenant, pack=chosen, actor=_actor(request), now=now)
        checkout_url = purchase_checkout_url_create(invoice=order.invoice, now=now)
        purchase, invoice = order.purchase, order.invoice
        return Response(self.OutputSerializer({
            "id": purchase.pk, "pack": chosen.code, "tokens": purchase.tokens,
            "price": _stated(purchase.price, purchase.currency), "status": purchase.status,
            "invoice": invoice.number, "amount_due": _stated(invoice.amount_due, invoice.currency),
            "checkout_url": checkout_url,
        }).data, status=status.HTTP_201_CREATED)
