"""Ops' admin for tenant referral rewards: what each referring tenant earned (or was refused, and why) when a
tenant it referred first paid, and what is left unused of a credit reward. Read only: rewards are written by
affiliates.referral_rewards.services alone (granted once per referral, expired by the daily job); the program's
reward settings are on the program's page."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin

from affiliates.models import TenantReferralReward
from affiliates.referral_rewards.services import reward_credit_unused
from config.admin import ReadOnlyAdminMixin


@admin.register(TenantReferralReward)
class TenantReferralRewardAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["granted_at", "referrer", "referred", "kind", "reward", "status", "reason", "expires_at"]
    list_filter = ["status", "kind", "granted_at"]
    search_fields = ["referrer__slug", "referrer__name", "referral__tenant__slug", "referral__tenant__name"]
    list_select_related = ["referrer", "referral__tenant"]
    date_hierarchy = "granted_at"
    ordering = ["-granted_at"]
    fields = ["referrer", "referral", "kind", "amount", "currency", "tokens", "status", "reason", "invoice",
              "granted_at", "expires_at", "unused_credit"]
    readonly_fields = ["unused_credit"]

    @admin.display(description="referred workspace", ordering="referral__tenant__slug")
    def referred(self, reward: TenantReferralReward) -> str:
        return reward.referral.tenant.slug

    @admin.display(description="reward")
    def reward(self, reward: TenantReferralReward) -> str:
        if reward.kind == TenantReferralReward.Kind.TOKENS:
            return f"{reward.tokens:,} tokens"
        return f"{reward.amount:.2f} {reward.currency}"

    @admin.display(description="unused credit now")
    def unused_credit(self, reward: TenantReferralReward) -> str:
        if reward.kind != TenantReferralReward.Kind.CREDIT or reward.status != TenantReferralReward.Status.GRANTED:
            return "—"
        left: Decimal = reward_credit_unused(reward=reward)
        return f"{left:.2f} {reward.currency} (taken back at expiry, credit being spent oldest first)"
