"""The Wallet page on a tenant's host (owners and billing): the AI-token balance, the low-balance threshold,
buying a token pack (a pending purchase ops mark paid), and the latest ledger entries. Everything is read and
written for `request.tenant` only."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import Action, staff_action_required
from config.money import money_format
from metering.models import TokenPack, TokenPurchase, WalletFeature
from metering.wallets.selectors import (
    token_pack_list_active,
    token_purchase_get,
    token_purchase_list,
    wallet_entry_list,
    wallet_summary,
)
from metering.wallets.services import (
    MAX_TOKENS,
    PurchaseNotPending,
    WalletError,
    token_purchase_cancel,
    token_purchase_create,
    wallet_threshold_set,
)

LEDGER_ROWS = 50


class ThresholdForm(forms.Form):
    low_balance_threshold = forms.IntegerField(
        min_value=0, max_value=MAX_TOKENS, required=False, label="Low-balance threshold (tokens)",
        help_text="Owners get one email when usage takes the balance to or below this. Leave empty for none.",
    )


class PackChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, pack: TokenPack) -> str:
        return f"{pack.name}: {pack.tokens:,} tokens for {money_format(pack.price_money)}"


class PurchaseForm(forms.Form):
    pack = PackChoiceField(queryset=TokenPack.objects.none(), to_field_name="code", widget=forms.RadioSelect,
                           empty_label=None, label="Token pack")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pack"].queryset = token_pack_list_active()


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
        messages.success(request, "No low-balance email will be sent.")
    else:
        messages.success(request, f"Owners will be emailed when the balance falls to {threshold:,} tokens or below.")
    return redirect("section_wallet")


@staff_action_required(Action.VIEW_BILLING)
@require_POST
def wallet_purchase_create(request: HttpRequest) -> HttpResponse:
    form = PurchaseForm(request.POST)
    if form.is_valid():
        try:
            purchase = token_purchase_create(tenant=request.tenant, pack=form.cleaned_data["pack"],
                                             created_by=request.user.email)
        except WalletError as error:
            form.add_error(error.field, error.message)
        else:
            messages.success(request, f"{purchase.pack.name} ordered: awaiting payment. The tokens are added as "
                                      "soon as the payment is confirmed.")
            return redirect("section_wallet")
    return _wallet_page_render(request, purchase_form=form, status=400)


@staff_action_required(Action.VIEW_BILLING)
@require_POST
def wallet_purchase_cancel(request: HttpRequest, purchase_id: int) -> HttpResponse:
    purchase = token_purchase_get(tenant=request.tenant, purchase_id=purchase_id)
    if purchase is None:
        raise Http404("No such purchase.")
    try:
        token_purchase_cancel(purchase=purchase, actor=request.user)
    except PurchaseNotPending as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The order of {purchase.pack.name} was cancelled.")
    return redirect("section_wallet")


def _wallet_page_render(request: HttpRequest, *, threshold_form: ThresholdForm | None = None,
                        purchase_form: PurchaseForm | None = None, status: int = 200) -> HttpResponse:
    tenant = request.tenant
    summary = wallet_summary(tenant=tenant)
    labels = dict(WalletFeature.choices)
    return render(request, "metering/wallet.html", {
        "active_section": "wallet",
        "summary": summary,
        "usage_rows": [(labels[feature], tokens) for feature, tokens in summary.usage_by_feature.items()],
        "threshold_form": threshold_form or ThresholdForm(
            initial={"low_balance_threshold": summary.low_balance_threshold}),
        "purchase_form": purchase_form or PurchaseForm(),
        "pending_purchases": list(token_purchase_list(tenant=tenant, status=TokenPurchase.Status.PENDING)),
        "entries": list(wallet_entry_list(tenant=tenant)[:LEDGER_ROWS]),
        "ledger_rows": LEDGER_ROWS,
    }, status=status)
