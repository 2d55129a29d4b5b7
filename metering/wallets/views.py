"""The Wallet page on a tenant's host (owners and billing): the AI-token balance, the low-balance threshold,
the token packs on sale and the orders awaiting payment with their invoices, auto-recharge, and the latest ledger
entries. Everything is read and written for `request.tenant` only. Ordering and cancelling a pack, and setting
up auto-recharge, are billing's views (billing.views, billing.auto_recharge.views): they order on invoices."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import Action, staff_action_required, user_can
from billing.auto_recharge.selectors import auto_recharge_state
from billing.selectors import invoice_briefs
from metering.models import TokenPurchase, WalletFeature
from metering.wallets.selectors import token_pack_list_active, token_purchase_list, wallet_entry_list, wallet_summary
from metering.wallets.services import MAX_TOKENS, wallet_threshold_set

LEDGER_ROWS = 50


class ThresholdForm(forms.Form):
    low_balance_threshold = forms.IntegerField(
        min_value=0, max_value=MAX_TOKENS, required=False, label="Low-balance threshold (tokens)",
        help_text="Owners and billing members are told once (in the app and by email, as their notification "
                  "preferences say) when usage takes the balance to or below this. Leave empty for none.",
    )


@staff_action_required(Action.VIEW_BILLING)
@require_GET
def wallet_page(request: HttpRequest) -> HttpResponse:
    return _wallet_page_render(request)


@staff_action_required(Action.VIEW_BILLING)
@require_POST
def wallet_threshold_update(request: HttpRequest) -> HttpResponse:
    form = ThresholdForm(request.POST)
    if not form.is_valid():
        return _wallet_page_render(request, threshold_form=form, status=400)
    threshold = form.cleaned_data["low_balance_threshold"]
    wallet_threshold_set(tenant=request.tenant, threshold=threshold)
    if threshold is None:
        messages.success(request, "No low-balance alert will be sent.")
    else:
        messages.success(request, f"Owners and billing members will be told when the balance falls to {threshold:,} "
                                  "tokens or below.")
    return redirect("section_wallet")


def _wallet_page_render(request: HttpRequest, *, threshold_form: ThresholdForm | None = None,
                        status: int = 200) -> HttpResponse:
    tenant = request.tenant
    summary = wallet_summary(tenant=tenant)
    labels = dict(WalletFeature.choices)
    pending = list(token_purchase_list(tenant=tenant, status=TokenPurchase.Status.PENDING))
    invoices = invoice_briefs(tenant=tenant, invoice_ids=[purchase.invoice_id for purchase in pending
                                                           if purchase.invoice_id])
    return render(request, "metering/wallet.html", {
        "active_section": "wallet",
        "summary": summary,
        "usage_rows": [(labels[feature], tokens) for feature, tokens in summary.usage_by_feature.items()],
        "threshold_form": threshold_form or ThresholdForm(
            initial={"low_balance_threshold": summary.low_balance_threshold}),
        "packs": list(token_pack_list_active()),
        "can_order": user_can(request.user, Action.MANAGE_BILLING),
        # Billing's: the form posts to billing (billing.auto_recharge.views).
        "auto_recharge": auto_recharge_state(tenant=tenant),
        "pending_purchases": [(purchase, invoices.get(purchase.invoice_id)) for purchase in pending],
        # Usually one text; several only if the operator changed it while orders were open.
        "payment_instructions": sorted({invoice.payment_instructions for invoice in invoices.values()
                                        if invoice.is_open and invoice.payment_instructions}),
        "entries": list(wallet_entry_list(tenant=tenant)[:LEDGER_ROWS]),
        "ledger_rows": LEDGER_ROWS,
    }, status=status)
