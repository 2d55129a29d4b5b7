"""The reseller price list API (scope `agency`): GET/PUT /api/v1/reseller/prices on the agency's own host.

GET answers every plan, interval and currency Tollgate sells publicly with its list price, the agency's wholesale
price, the agency's own price and its margin. PUT sets (an amount) or withdraws (null) the listed prices, all or
none; refused with 400 reseller_price_below_wholesale (details: the wholesale figure and the entry's index),
reseller_price_currency_unavailable or reseller_price_invalid; 403 not_an_agency or not_a_reseller (referral
mode); 402 plan_upgrade_required without white_label. A workspace only ever reads and writes its own prices."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Action
from affiliates.agencies.exceptions import NotAnAgency
from config.api.schema import error_responses, scopes_note
from config.api.serializers import StrictCharField, StrictInputSerializer
from config.money import Money, money_round, money_to_api
from tenants.models import Tenant
from whitelabel.resellers.selectors import PriceListRow, reseller_price_list
from whitelabel.resellers.services import reseller_prices_set

SCOPE = "agency"
MAX_ENTRIES = 200


@extend_schema_serializer(component_name="ResellerMoney")
class _MoneySerializer(serializers.Serializer):
    amount = serializers.CharField(help_text='A decimal string, e.g. "12.34".')
    currency = serializers.CharField()


@extend_schema_field(_MoneySerializer(allow_null=True))
class _MoneyField(serializers.Field):
    def to_representation(self, value: Money) -> dict[str, str]:
        return money_to_api(money_round(value))


@extend_schema_serializer(component_name="ResellerPlan")
class _PlanSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


@extend_schema_serializer(component_name="ResellerPrice")
class ResellerPriceSerializer(serializers.Serializer):
    plan = _PlanSerializer()
    interval = serializers.CharField()
    currency = serializers.CharField()
    list_price = _MoneyField(help_text="Tollgate's price for the plan on this interval, per period.")
    wholesale_price = _MoneyField(help_text="What Tollgate charges you: the list price less your discount.")
    price = _MoneyField(allow_null=True, help_text="Your price; null when you set none (the list price applies).")
    margin = _MoneyField(allow_null=True, help_text="Your price less wholesale; null without a price.")


def _row_data(row: PriceListRow) -> dict:
    return {"plan": {"code": row.plan.code, "name": row.plan.name}, "interval": row.interval,
            "currency": row.currency, "list_price": row.list_price, "wholesale_price": row.wholesale,
            "price": row.your_price, "margin": row.margin}


@extend_schema_serializer(component_name="ResellerPriceEntry")
class _EntrySerializer(StrictInputSerializer):
    plan = StrictCharField(max_length=40, help_text="The plan's code, e.g. starter.")
    interval = serializers.ChoiceField(choices=["month", "quarter", "year"])
    currency = serializers.RegexField(r"^[A-Z]{3}$", help_text="ISO 4217, a currency the plan is sold in.")
    amount = StrictCharField(allow_null=True, max_length=30,
                             help_text='Per period, a decimal string ("29.00"); null withdraws your price.')


def _agency(request) -> Tenant:
    if request.tenant.type != Tenant.Type.AGENCY:
        raise NotAnAgency("Only an agency workspace has a price list.")
    return request.tenant


class ResellerPriceListApi(APIView):
    required_scopes = {"GET": SCOPE, "PUT": SCOPE}
    required_actions = {"GET": Action.VIEW_BILLING, "PUT": Action.MANAGE_BILLING}

    @extend_schema_serializer(component_name="ResellerPriceList")
    class OutputSerializer(serializers.Serializer):
        data = ResellerPriceSerializer(many=True)

    @extend_schema_serializer(component_name="ResellerPriceUpdate")
    class InputSerializer(StrictInputSerializer):
        prices = _EntrySerializer(many=True, allow_empty=False, max_length=MAX_ENTRIES)

    @extend_schema(operation_id="reseller_prices_list", summary="Your price list",
                   description=scopes_note(SCOPE) + " Each plan Tollgate sells publicly, per interval and currency: "
                   "its list price, your wholesale price, your price and margin.",
                   responses={200: OutputSerializer, **error_responses(401, 403)})
    def get(self, request):
        rows = reseller_price_list(agency=_agency(request))
        return Response(self.OutputSerializer({"data": [_row_data(row) for row in rows]}).data)

    @extend_schema(operation_id="reseller_prices_update", summary="Set or withdraw your prices",
                   description=scopes_note(SCOPE) + " All entries or none. At or above wholesale (400 "
                   "reseller_price_below_wholesale, with the wholesale figure), in a currency and interval the "
                   "plan is sold in (400 reseller_price_currency_unavailable); an agency in reseller mode (403 "
                   "not_a_reseller) whose plan has white_label (402 plan_upgrade_required). Answers the whole list.",
                   request=InputSerializer(), responses={200: OutputSerializer, **error_responses(400, 401, 402, 403)})
    def put(self, request):
        agency = _agency(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reseller_prices_set(agency=agency, entries=[dict(entry) for entry in data.validated_data["prices"]],
                            now=timezone.now())
        rows = reseller_price_list(agency=agency)
        return Response(self.OutputSerializer({"data": [_row_data(row) for row in rows]}).data)
