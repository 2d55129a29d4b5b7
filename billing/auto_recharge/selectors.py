"""Reads of wallet auto-recharge, for the Wallet page and the API: always for one tenant."""

from __future__ import annotations

from dataclasses import dataclass

from billing.models import AutoRecharge, AutoRechargeOrder
from billing.payments.stripe_api import stripe_enabled
from tenants.models import Tenant


@dataclass(frozen=True)
class AutoRechargeState:
    available: bool  # card payments are on: auto-recharge can be turned on (with a saved card)
    setting: AutoRecharge | None  # None: never set up
    in_flight: AutoRechargeOrder | None  # the recharge being charged (or awaiting the cardholder)
    last: AutoRechargeOrder | None  # the latest recharge, settled or not

    @property
    def enabled(self) -> bool:
        return self.setting is not None and self.setting.enabled


def auto_recharge_get(*, tenant: Tenant) -> AutoRecharge | None:
    return AutoRecharge.objects.filter(tenant=tenant).select_related("pack").first()


def auto_recharge_state(*, tenant: Tenant) -> AutoRechargeState:
    orders = AutoRechargeOrder.objects.filter(tenant=tenant).select_related("invoice", "purchase__pack")
    last = orders.order_by("-created_at", "-id").first()
    return AutoRechargeState(available=stripe_enabled(), setting=auto_recharge_get(tenant=tenant),
                             in_flight=last if last is not None and last.status == AutoRechargeOrder.Status.PENDING
                             else None,
                             last=last)
