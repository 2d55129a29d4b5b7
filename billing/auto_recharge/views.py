"""Auto-recharge's page on a tenant's host (owners and billing members): the Wallet page shows the setting and
posts its form here; a form with errors is answered here, with the errors next to the fields (400)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.permissions import Action, staff_action_required
from billing.auto_recharge.selectors import AutoRechargeState, auto_recharge_state
from billing.auto_recharge.services import auto_recharge_save
from config.errors import DomainError
from metering.wallets.selectors import token_pack_list_active
from metering.wallets.services import MAX_TOKENS


class AutoRechargeForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Recharge automatically with my saved card")
    threshold = forms.IntegerField(min_value=1, max_value=MAX_TOKENS, label="When the balance falls below (tokens)")
    pack = forms.ModelChoiceField(queryset=token_pack_list_active(), to_field_name="code", empty_label=None,
                                  label="Buy this pack")


@staff_action_required(Action.MANAGE_BILLING)
@require_http_methods(["GET", "POST"])
def auto_recharge_page(request: HttpRequest) -> HttpResponse:
    state = auto_recharge_state(tenant=request.tenant)
    if request.method == "GET":
        return _render(request, state=state, form=AutoRechargeForm(initial=_initial(state)))
    form = AutoRechargeForm(request.POST)
    if not form.is_valid():
        return _render(request, state=state, form=form, status=400)
    data = form.cleaned_data
    try:
        saved = auto_recharge_save(tenant=request.tenant, enabled=data["enabled"], threshold=data["threshold"],
                                   pack=data["pack"], actor=request.user.email, now=timezone.now())
    except DomainError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return _render(request, state=state, form=form, status=error.status)
    setting = saved.setting
    if setting.enabled:
        messages.success(request, f"Auto-recharge is on: below {setting.threshold:,} tokens, the {setting.pack.name} "
                                  "is bought with your saved card."
                         + (f" Your balance is below that now: invoice {saved.order.invoice.number} was issued "
                            "and is being charged." if saved.order else ""))
    elif data["enabled"]:
        messages.error(request, f"Auto-recharge could not start: {setting.get_off_reason_display()}. "
                                f"{setting.off_detail}".strip())
    else:
        messages.success(request, "Auto-recharge is off.")
    return redirect("section_wallet")


def _initial(state: AutoRechargeState) -> dict:
    if state.setting is None:
        return {}
    return {"enabled": state.setting.enabled, "threshold": state.setting.threshold, "pack": state.setting.pack}


def _render(request: HttpRequest, *, state: AutoRechargeState, form: AutoRechargeForm,
            status: int = 200) -> HttpResponse:
    return render(request, "billing/auto_recharge.html", {"active_section": "wallet", "state": state, "form": form},
                  status=status)
