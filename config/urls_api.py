"""The API under /api/ on tenant hosts: v1 endpoints, the OpenAPI schema and its interactive docs."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.api import TeamMemberListApi
from metering.gateway.api import AiCodeCreateApi, AiMessageCreateApi
from metering.usage.api import EventIngestApi, UsageSeriesApi, UsageSummaryApi
from metering.wallets.api import WalletDetailApi, WalletEntryListApi
from tenants.api import ApiKeyListCreateApi, ApiKeyRevokeApi, TenantDetailApi

urlpatterns = [
    path("v1/tenant", TenantDetailApi.as_view(), name="api_tenant"),
    path("v1/api-keys", ApiKeyListCreateApi.as_view(), name="api_api_keys"),
    path("v1/api-keys/<int:api_key_id>/revoke", ApiKeyRevokeApi.as_view(), name="api_api_key_revoke"),
    path("v1/team/members", TeamMemberListApi.as_view(), name="api_team_members"),
    path("v1/events", EventIngestApi.as_view(), name="api_events"),
    path("v1/usage", UsageSeriesApi.as_view(), name="api_usage"),
    path("v1/usage/summary", UsageSummaryApi.as_view(), name="api_usage_summary"),
    path("v1/wallet", WalletDetailApi.as_view(), name="api_wallet"),
    path("v1/wallet/entries", WalletEntryListApi.as_view(), name="api_wallet_entries"),
    path("v1/ai/messages", AiMessageCreateApi.as_view(), name="api_ai_messages"),
    path("v1/ai/code", AiCodeCreateApi.as_view(), name="api_ai_code"),
    path("schema/", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[],
                                               throttle_classes=[]), name="api_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api_schema", authentication_classes=[],
                                                 permission_classes=[], throttle_classes=[]), name="api_docs"),
]
