"""Wallet API: the AI-token balance with this month's usage per feature, and the ledger."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Action
from config.api.pagination import ApiCursorPagination
from config.api.schema import error_responses, scopes_note
from metering.models import WalletEntry, WalletFeature
from metering.wallets.selectors import wallet_entry_list, wallet_summary


@extend_schema_serializer(component_name="WalletFeatureUsage")
class FeatureUsageSerializer(serializers.Serializer):
    feature = serializers.ChoiceField(choices=WalletFeature.choices)
    tokens = serializers.IntegerField(help_text="Tokens used for this feature this month, net of refunds (an AI "
                                              "request counts its real usage, not its reservation).")


class WalletDetailApi(APIView):
    required_scopes = {"GET": "read"}
    # Everyone who may use the AI may see whether tokens are left.
    required_actions = {"GET": Action.USE_PRODUCT}

    @extend_schema_serializer(component_name="Wallet")
    class OutputSerializer(serializers.Serializer):
        balance = serializers.IntegerField(help_text="AI tokens available now.")
        owed_tokens = serializers.IntegerField(
            help_text="Tokens used beyond the balance (real usage over a reservation): the next credit repays them "
                      "first; what stays owed is invoiced.")
        low_balance_threshold = serializers.IntegerField(
            allow_null=True, help_text="The owners are emailed when usage takes the balance to or below this.")
        low_balance = serializers.BooleanField(help_text="The balance is at or below the threshold.")
        monthly_allowance = serializers.IntegerField(help_text="Tokens the plan grants each month.")
        period_start = serializers.DateTimeField(help_text="This month (UTC), first instant.")
        period_end = serializers.DateTimeField(help_text="This month (UTC), end (exclusive).")
        usage_this_month = FeatureUsageSerializer(many=True)

    @extend_schema(operation_id="wallet_retrieve", summary="The AI-token wallet",
                   description=scopes_note("read") + " The balance, the tokens owed, the low-balance threshold, "
                   "and the tokens used this month per feature, net of refunds (every feature listed, zeros "
                   "included).",
                   responses={200: OutputSerializer, **error_responses(401, 403)})
    def get(self, request):
        summary = wallet_summary(tenant=request.tenant)
        return Response(self.OutputSerializer({
            "balance": summary.balance,
            "owed_tokens": summary.owed,
            "low_balance_threshold": summary.low_balance_threshold,
            "low_balance": summary.is_low,
            "monthly_allowance": summary.monthly_allowance,
            "period_start": summary.period_start,
            "period_end": summary.period_end,
            "usage_this_month": [{"feature": feature, "tokens": tokens}
                                 for feature, tokens in summary.usage_by_feature.items()],
        }).data)


class WalletEntryPagination(ApiCursorPagination):
    # Entry ids are the ledger's own order (balance_after follows them); creation times can tie.
    ordering = ("-id",)


class WalletEntryListApi(APIView):
    pagination_class = WalletEntryPagination
    required_scopes = {"GET": "read"}
    # Purchases and adjustments are billing matters: the same people as the Wallet page.
    required_actions = {"GET": Action.VIEW_BILLING}

    @extend_schema_serializer(component_name="WalletEntry")
    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = WalletEntry
            fields = ["id", "kind", "tokens", "balance_after", "feature", "reason", "idempotency_key", "created_at",
                      "expires_at", "grant", "grant_tokens", "refund_of", "owed_tokens"]
            extra_kwargs = {
                "tokens": {"help_text": "Signed: credits are positive, usage, expiry and repayments negative."},
                "balance_after": {"help_text": "The balance right after this entry."},
                "grant": {"help_text": "The grant whose monthly allowance this entry drew from or gave back to."},
                "grant_tokens": {"help_text": "The part of tokens that was that grant's allowance (it expires)."},
                "refund_of": {"help_text": "Refunds: the id of the usage entry this gives tokens back for."},
                "owed_tokens": {"help_text": "Usage the balance could not cover (positive), or its repayment "
                                             "(negative)."},
            }

    @extend_schema(operation_id="wallet_entries_list", summary="The wallet's ledger, newest first",
                   description=scopes_note("read") + " Every change to the balance, never edited: grants, "
                   "purchases, usage, refunds, expiries, adjustments and repayments of owed tokens.",
                   responses={200: OutputSerializer(many=True), **error_responses(400, 401, 403)})
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(wallet_entry_list(tenant=request.tenant), request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)
