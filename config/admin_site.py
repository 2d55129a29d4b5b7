"""The ops admin site: apps in the order ops work in them (Tenants, Billing, Metering, then Stripe and the plumbing),
dj-stripe's ~45 models cut down on the index to the few ops act on, and an index that opens with what needs
someone. Every model stays registered (and reachable by URL, for a link from a payment or an event); only the
index is curated.

Installed through config.apps.OpsAdminConfig (it replaces django.contrib.admin in INSTALLED_APPS), so every
`admin.site.register` / `@admin.register` in the apps lands here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse

# The index order; apps not named here follow, alphabetically.
APP_ORDER = ["tenants", "accounts", "billing", "metering", "djstripe"]

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
        context = {"attention_queues": _attention_queues(), **(extra_context or {})}
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
    ]


def _app_position(app: dict) -> tuple[int, str]:
    label = app["app_label"]
    return (APP_ORDER.index(label) if label in APP_ORDER else len(APP_ORDER), app["name"].lower())
