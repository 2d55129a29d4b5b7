"""The ops admin site: apps in the order ops work in them (Tenants, Billing, Metering, Notifications, then Stripe and
the plumbing), dj-stripe's ~45 models cut down on the index to the few ops act on (with the re-process action on
webhook deliveries that dj-stripe leaves out), and an index that opens with the revenue headline figures and what
needs someone. Every model stays registered (and reachable by URL, for a link from a payment or an event); only the
index is curated.

Installed through config.apps.OpsAdminConfig (it replaces django.contrib.admin in INSTALLED_APPS), so every
`admin.site.register` / `@admin.register` in the apps lands here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse

from config.money import Money, money_format

# The index order; apps not named here follow, alphabetically.
APP_ORDER = ["tenants", "accounts", "billing", "metering", "notifications", "djstripe"]

# dj-stripe models that ops use (by model name, lower case); the rest are hidden from the index.
STRIPE_MODELS_SHOWN = frozenset({
    "customer", "paymentintent", "refund", "dispute", "webhookendpoint", "webhookeventtrigger",
})


class OpsAdminSite(admin.AdminSite):
    site_header = "Tollgate operations"
    site_title = "Tollgate ops"
    index_title = "Operations"
    index_template = "admin/ops_index.html"

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            if app["app_label"] == "djstripe":
                app["name"] = "Stripe (dj-stripe)"
                app["models"] = [model for model in app["models"]
                                 if model["object_name"].lower() in STRIPE_MODELS_SHOWN]
        app_list = [app for app in app_list if app["models"]]
        return sorted(app_list, key=_app_position)

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> TemplateResponse:
        context = {"attention_queues": _attention_queues(), "revenue": _revenue_headline(),
                   "revenue_dashboard_url": reverse("admin:billing_revenuesnapshot_changelist"),
                   **(extra_context or {})}
        return super().index(request, extra_context=context)


@dataclass(frozen=True)
class AttentionQueue:
    label: str
    count: int
    url: str


def _attention_queues() -> list[AttentionQueue]:
    # config wires the apps together, so the ops home may ask billing what waits for someone.
    from billing.selectors import ops_attention_counts

    counts = ops_attention_counts()
    return [
        AttentionQueue("Subscriptions past due (in dunning)", counts.subscriptions_past_due,
                       reverse("admin:billing_subscription_changelist") + "?status__exact=past_due"),
        AttentionQueue("Quotes awaiting a price", counts.quotes_awaiting_price,
                       reverse("admin:billing_servicequote_changelist") + "?status__exact=requested"),
        AttentionQueue("Invoices in draft", counts.invoices_in_draft,
                       reverse("admin:billing_invoice_changelist") + "?status__exact=draft"),
        AttentionQueue("Payments in dunning", counts.payments_in_dunning,
                       reverse("admin:billing_dunningcase_changelist") + "?status__exact=active"),
        AttentionQueue("Payments awaiting customer action (SCA)", counts.payments_awaiting_action,
                       reverse("admin:billing_payment_changelist")
                       + "?status__exact=requires_action&invoice__status__exact=open"),
        AttentionQueue("Open disputes (chargebacks)", counts.disputes_open,
                       reverse("admin:billing_dispute_changelist") + "?open=yes"),
        AttentionQueue("Reconciliation disagreements with Stripe", counts.reconciliation_disagreements,
                       reverse("admin:billing_reconciliationdisagreement_changelist") + "?status__exact=open"),
    ]


@dataclass(frozen=True)
class RevenueFigure:
    label: str
    value: str


@dataclass(frozen=True)
class RevenueHeadline:
    day: date
    currency: str
    figures: list[RevenueFigure]


def _revenue_headline() -> RevenueHeadline | None:
    from billing.selectors import ops_revenue_headline

    headline = ops_revenue_headline()
    if headline is None:
        return None

    def money(amount: Decimal) -> str:
        return money_format(Money(amount, headline.currency))

    recovered = headline.failed_recovered_percent
    trialing = f", and {headline.subscriptions_trialing} trialing" if headline.subscriptions_trialing else ""
    return RevenueHeadline(day=headline.day, currency=headline.currency, figures=[
        RevenueFigure("MRR", money(headline.mrr)),
        RevenueFigure("ARR", money(headline.arr)),
        RevenueFigure("Net new MRR this month", money(headline.net_new_mrr_this_month)),
        RevenueFigure("Active subscriptions (paying)", f"{headline.subscriptions_active:,}{trialing}"),
        RevenueFigure(f"Failed payments recovered ({headline.months} months)",
                      "no failed payments" if recovered is None else f"{recovered} %"),
    ])


def webhook_trigger_reprocess_offer(site: admin.AdminSite) -> None:
    """dj-stripe's admin for webhook deliveries has a `reprocess` method but does not offer it as an action: offer
    it, so ops can run a delivery that failed (our receiver raised, Stripe gave up) again from the admin.
    Called once every app's admin is registered (config.apps.OpsAdminConfig.ready)."""
    from djstripe.admin.admin import WebhookEventTriggerAdmin
    from djstripe.models import WebhookEventTrigger

    class WebhookEventTriggerOpsAdmin(WebhookEventTriggerAdmin):
        actions = ["reprocess"]

        @admin.action(description="Process the selected deliveries again")
        def reprocess(self, request: HttpRequest, queryset) -> None:
            processed = 0
            for trigger in queryset.order_by("pk"):
                if not trigger.valid:
                    self.message_user(request, f"Skipped {trigger.pk}: its signature was not valid.",
                                      messages.WARNING)
                    continue
                try:
                    with transaction.atomic():
                        trigger.process()
                except Exception as error:  # noqa: BLE001 (whatever our receivers raised, shown to ops as is)
                    trigger.refresh_from_db()
                    self.message_user(request, f"Delivery {trigger.pk} failed again: {error}", messages.ERROR)
                    continue
                processed += 1
            if processed:
                self.message_user(request, f"Processed again: {processed} delivery(ies).", messages.SUCCESS)

    if site.is_registered(WebhookEventTrigger):
        site.unregister(WebhookEventTrigger)
    site.register(WebhookEventTrigger, WebhookEventTriggerOpsAdmin)


def _app_position(app: dict) -> tuple[int, str]:
    label = app["app_label"]
    return (APP_ORDER.index(label) if label in APP_ORDER else len(APP_ORDER), app["name"].lower())
