"""The API under /api/ on tenant hosts: v1 endpoints, the OpenAPI schema and its interactive docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.api import TeamMemberListApi
from affiliates.agencies.api import ClientDetailApi, ClientInvoiceListApi, ClientListCreateApi
from billing.api import (
    CreditBalanceApi,
    CreditNoteListApi,
    InvoiceDetailApi,
    InvoiceListApi,
    InvoicePdfApi,
    PlanCompareApi,
    PlanListApi,
    SubscriptionApi,
    SubscriptionCancelApi,
    SubscriptionPreviewApi,
    SubscriptionReactivateApi,
    TokenPackOrderApi,
    UpcomingInvoiceApi,
)
from billing.auto_recharge.api import AutoRechargeApi
from creators.content.api import ContentDetailApi, ContentListCreateApi
from metering.gateway.api import AiCodeCreateApi, AiMessageCreateApi
from metering.usage.api import EventIngestApi, UsageSeriesApi, UsageSummaryApi
from metering.wallets.api import WalletDetailApi, WalletEntryListApi
from tenants.api import ApiKeyListCreateApi, ApiKeyRevokeApi, TenantDetailApi
from whitelabel.brands.api import BrandingApi
from whitelabel.domains.api import DomainCheckApi, DomainDetailApi, DomainListCreateApi
from whitelabel.resellers.api import ResellerPriceListApi

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
    path("v1/wallet/auto-recharge", AutoRechargeApi.as_view(), name="api_wallet_auto_recharge"),
    path("v1/wallet/purchases", TokenPackOrderApi.as_view(), name="api_wallet_purchases"),
    path("v1/ai/messages", AiMessageCreateApi.as_view(), name="api_ai_messages"),
    path("v1/ai/code", AiCodeCreateApi.as_view(), name="api_ai_code"),
    path("v1/coach/", include("creators.urls_api")),
    path("v1/clients", ClientListCreateApi.as_view(), name="api_clients"),
    path("v1/clients/<slug:slug>", ClientDetailApi.as_view(), name="api_client"),
    path("v1/clients/<slug:slug>/invoices", ClientInvoiceListApi.as_view(), name="api_client_invoices"),
    path("v1/content", ContentListCreateApi.as_view(), name="api_content"),
    path("v1/content/<int:document_id>", ContentDetailApi.as_view(), name="api_content_document"),
    path("v1/plans", PlanListApi.as_view(), name="api_plans"),
    path("v1/plans/compare", PlanCompareApi.as_view(), name="api_plans_compare"),
    path("v1/subscription", SubscriptionApi.as_view(), name="api_subscription"),
    path("v1/subscription/preview", SubscriptionPreviewApi.as_view(), name="api_subscription_preview"),
    path("v1/subscription/cancel", SubscriptionCancelApi.as_view(), name="api_subscription_cancel"),
    path("v1/subscription/reactivate", SubscriptionReactivateApi.as_view(), name="api_subscription_reactivate"),
    path("v1/invoices", InvoiceListApi.as_view(), name="api_invoices"),
    # Before the invoice by number: "upcoming" and "<number>.pdf" are not invoice numbers.
    path("v1/invoices/upcoming", UpcomingInvoiceApi.as_view(), name="api_invoice_upcoming"),
    path("v1/invoices/<str:number>.pdf", InvoicePdfApi.as_view(), name="api_invoice_pdf"),
    path("v1/invoices/<str:number>", InvoiceDetailApi.as_view(), name="api_invoice"),
    path("v1/credit-notes", CreditNoteListApi.as_view(), name="api_credit_notes"),
    path("v1/credit-balance", CreditBalanceApi.as_view(), name="api_credit_balance"),
    path("v1/branding", BrandingApi.as_view(), name="api_branding"),
    path("v1/reseller/prices", ResellerPriceListApi.as_view(), name="api_reseller_prices"),
    path("v1/domains", DomainListCreateApi.as_view(), name="api_domains"),
    path("v1/domains/<int:domain_id>", DomainDetailApi.as_view(), name="api_domain"),
    path("v1/domains/<int:domain_id>/check", DomainCheckApi.as_view(), name="api_domain_check"),
    path("schema/", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[],
                                               throttle_classes=[]), name="api_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api_schema", authentication_classes=[],
                                                 permission_classes=[], throttle_classes=[]), name="api_docs"),
]
