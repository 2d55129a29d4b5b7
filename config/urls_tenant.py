"""URLs of a tenant's host (<slug>.BASE_DOMAIN): staff pages and allauth. No admin here: it is 404."""

from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path

from accounts import views as account_views
from affiliates.referral_rewards import views as referral_views
from billing import views as billing_views
from billing.auto_recharge import views as auto_recharge_views
from metering.usage import views as metering_views
from metering.wallets import views as wallet_views
from notifications import views as notification_views
from tenants import views_staff

# The 500 page under the host's brand (a reseller's client never reads "Tollgate" on it).
handler500 = "whitelabel.brands.errors.server_error"

urlpatterns = [
    path("", views_staff.dashboard, name="dashboard"),
    path("login/link/<str:token>/", views_staff.login_link_consume, name="login_link_consume"),
    path("accounts/", include("allauth.urls")),
    path("api/", include("config.urls_api")),
    path("api-keys/", views_staff.api_keys_page, name="section_api_keys"),
    path("api-keys/<int:api_key_id>/revoke/", views_staff.api_key_revoke_confirm, name="api_key_revoke"),
    path("team/", account_views.team_page, name="section_team"),
    path("team/invitations/", account_views.team_invitation_create, name="team_invitation_create"),
    path("team/invitations/<int:invitation_id>/resend/", account_views.team_invitation_resend,
         name="team_invitation_resend"),
    path("team/invitations/<int:invitation_id>/revoke/", account_views.team_invitation_revoke,
         name="team_invitation_revoke"),
    path("team/members/<int:member_id>/role/", account_views.team_member_role_change, name="team_member_role_change"),
    path("team/members/<int:member_id>/remove/", account_views.team_member_remove, name="team_member_remove"),
    path("invitations/<str:token>/", account_views.team_join, name="invitation_accept"),
    path("settings/", views_staff.workspace_settings, name="section_settings"),
    path("", include("whitelabel.brands.urls")),
    path("", include("whitelabel.portals.urls")),
    path("", include("whitelabel.domains.urls")),
    path("usage/", metering_views.usage_page, name="section_usage"),
    path("wallet/", wallet_views.wallet_page, name="section_wallet"),
    path("wallet/threshold/", wallet_views.wallet_threshold_update, name="wallet_threshold_update"),
    # Token packs are sold on invoices: billing takes the Wallet page's orders.
    path("wallet/purchases/", billing_views.token_pack_order_submit, name="wallet_purchase_create"),
    path("wallet/purchases/<int:purchase_id>/cancel/", billing_views.token_pack_cancel_submit,
         name="wallet_purchase_cancel"),
    path("wallet/auto-recharge/", auto_recharge_views.auto_recharge_page, name="wallet_auto_recharge"),
    path("coach/", include("creators.urls")),
    path("", include("affiliates.agencies.urls")),
    path("", include("whitelabel.resellers.urls")),
    path("content/", include("creators.content.urls")),
    path("referrals/", referral_views.referrals_page, name="section_referrals"),
    path("notifications/", notification_views.notifications_page, name="notifications"),
    path("notifications/read/", notification_views.notifications_read_all, name="notifications_read_all"),
    path("notifications/preferences/", notification_views.notification_preferences_page,
         name="notification_preferences"),
    path("notifications/<int:notification_id>/", notification_views.notification_open, name="notification_open"),
    path("notifications/<int:notification_id>/read/", notification_views.notification_read,
         name="notification_read"),
    path("billing/", billing_views.billing_page, name="section_billing"),
    path("billing/subscription/start/", billing_views.subscription_start_submit, name="billing_subscription_start"),
    path("billing/subscription/change/", billing_views.subscription_change_confirm,
         name="billing_subscription_change"),
    path("billing/subscription/cancel/", billing_views.subscription_cancel_submit,
         name="billing_subscription_cancel"),
    path("billing/subscription/reactivate/", billing_views.subscription_reactivate_submit,
         name="billing_subscription_reactivate"),
    path("billing/promotion-code/", billing_views.promotion_code_submit, name="billing_promotion_code"),
    path("billing/details/", billing_views.billing_profile_submit, name="billing_profile_update"),
    path("billing/card/add/", billing_views.card_add_submit, name="billing_card_add"),
    path("billing/card/portal/", billing_views.card_portal_open, name="billing_card_portal"),
    path("billing/card/collection/", billing_views.card_collection_submit, name="billing_card_collection"),
    path("billing/services/", billing_views.quote_request_submit, name="billing_quote_request"),
    path("billing/services/<int:quote_id>/<str:answer>/", billing_views.quote_answer_submit,
         name="billing_quote_answer"),
    path("billing/invoices/<str:number>.pdf", billing_views.invoice_pdf_download, name="billing_invoice_pdf"),
    path("billing/invoices/<str:number>/", billing_views.invoice_page, name="billing_invoice"),
    path("billing/invoices/<str:number>/pay/", billing_views.invoice_pay_now, name="billing_invoice_pay"),
    path("billing/invoices/<str:number>/checkout/<str:result>/", billing_views.invoice_checkout_return,
         name="billing_invoice_checkout_return"),
    path("billing/invoices/<str:number>/lines/<int:line_id>/usage/", billing_views.invoice_line_usage,
         name="billing_invoice_line_usage"),
] + [
    path(f"{section}/", views_staff.section_upcoming, {"section": section}, name=f"section_{section.replace('-', '_')}")
    for section in views_staff.UPCOMING_SECTIONS
]
# Uploaded brand logos in local development (static() adds nothing unless DEBUG); production serves MEDIA_URL
# from its storage backend.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
