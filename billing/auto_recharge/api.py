"""Auto-recharge in the API: read the setting and the recharge in flight; turn it on or off. Turning it on needs a
saved card (409 auto_recharge_card_missing otherwise) and, below the threshold already, starts a recharge (an
invoice): an Idempotency-Key makes a retried PUT answer the first result."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Action
from billing.auto_recharge.selectors import AutoRechargeState, auto_recharge_state
from billing.auto_recharge.services import AutoRechargeInvalid, auto_recharge_save
from billing.models import AutoRecharge, AutoRechargeOrder
from config.api.idempotency import idempotent_response
from config.api.schema import error_responses, scopes_note
from config.api.serializers import StrictCharField, StrictInputSerializer
from metering.wallets.selectors import token_pack_list_active
from metering.wallets.services import MAX_TOKENS


@extend_schema_serializer(component_name="AutoRechargeInFlight")
class InFlightSerializer(serializers.Serializer):
    invoice = serializers.CharField(help_text="The recharge's invoice number.")
    status = serializers.ChoiceField(choices=AutoRechargeOrder.Status.choices)
    action_url = serializers.CharField(allow_blank=True, help_text="Where the cardholder confirms the payment, when "
                                                                   "the bank asked for it (SCA).")


class AutoRechargeApi(APIView):
    required_scopes = {"GET": "read", "PUT": "billing"}
    required_actions = {"GET": Action.VIEW_BILLING, "PUT": Action.MANAGE_BILLING}

    @extend_schema_serializer(component_name="AutoRechargeChange")
    class InputSerializer(StrictInputSerializer):
        enabled = serializers.BooleanField()
        threshold = serializers.IntegerField(min_value=1, max_value=MAX_TOKENS,
                                             help_text="Recharge when usage leaves the balance below this.")
        pack = StrictCharField(max_length=40, help_text="The code of the token pack to buy, e.g. tokens-1m.")

    @extend_schema_serializer(component_name="AutoRecharge")
    class OutputSerializer(serializers.Serializer):
        available = serializers.BooleanField(help_text="Card payments are on: auto-recharge can be turned on.")
        enabled = serializers.BooleanField()
        threshold = serializers.IntegerField(allow_null=True)
        pack = serializers.CharField(allow_null=True)
        off_reason = serializers.ChoiceField(choices=AutoRecharge.OffReason.choices, allow_null=True,
                                             help_text="Why it is off, when a failure turned it off.")
        in_flight = InFlightSerializer(allow_null=True)

    @extend_schema(operation_id="wallet_auto_recharge_retrieve", summary="Wallet auto-recharge",
                   description=scopes_note("read") + " The setting and the recharge being charged, if any.",
                   responses={200: OutputSerializer, **error_responses(401, 403)})
    def get(self, request):
        return Response(self._data(auto_recharge_state(tenant=request.tenant)))

    @extend_schema(operation_id="wallet_auto_recharge_update", summary="Turn wallet auto-recharge on or off",
                   description=scopes_note("billing") + " Turning it on needs a saved card "
                   "(auto_recharge_card_missing, 409); when the balance is below the threshold already, a recharge "
                   "starts at once. Refusals: auto_recharge_invalid (400), auto_recharge_card_missing (409).",
                   request=InputSerializer, responses={200: OutputSerializer, **error_responses(400, 401, 403, 409)})
    def put(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return idempotent_response(request, execute=lambda: self._apply(request, **data.validated_data))

    def _apply(self, request, *, enabled: bool, threshold: int, pack: str) -> Response:
        chosen = token_pack_list_active().filter(code=pack).first()
        if chosen is None:
            raise AutoRechargeInvalid("No token pack on sale has this code.", field="pack")
        auto_recharge_save(tenant=request.tenant, enabled=enabled, threshold=threshold, pack=chosen,
                           actor=_actor(request), now=timezone.now())
        return Response(self._data(auto_recharge_state(tenant=request.tenant)))

    def _data(self, state: AutoRechargeState) -> dict:
        setting, in_flight = state.setting, state.in_flight
        return self.OutputSerializer({
            "available": state.available, "enabled": state.enabled,
            "threshold": setting.threshold if setting else None,
            "pack": setting.pack.code if setting else None,
            "off_reason": (setting.off_reason or None) if setting else None,
            "in_flight": {"invoice": in_flight.invoice.number, "status": in_flight.status,
                          "action_url": in_flight.action_url} if in_flight else None,
        }).data


def _actor(request) -> str:
    # A person's email, or "api-key:<prefix>" for a key (tenants.authentication.ApiKeyPrincipal).
    return request.user.email
