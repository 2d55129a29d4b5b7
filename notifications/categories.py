"""What a notification is about, and who hears of it unless they say otherwise.

A category's roles decide who is a recipient at all (billing news goes to owners and billing members, never to
every member); each recipient's preference then decides the channels (in-app, email). Ops categories have no
roles: their recipients are the ops accounts of the public schema."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from accounts.models import Role


class Category(models.TextChoices):
    WELCOME = "welcome", "Welcome"
    TRIAL_ENDING = "trial_ending", "Trial ending"
    INVOICE_ISSUED = "invoice_issued", "Invoice issued"
    PAYMENT_SUCCEEDED = "payment_succeeded", "Payment succeeded"
    PAYMENT_FAILED = "payment_failed", "Payment failed"
    ACTION_REQUIRED = "action_required", "Payment needs your action"
    CARD_EXPIRING = "card_expiring", "Card expiring"
    SUBSCRIPTION_CHANGED = "subscription_changed", "Subscription changed"
    QUOTE_SENT = "quote_sent", "Service quotes"
    USAGE_ALERT = "usage_alert", "Usage alerts"
    LOW_BALANCE = "low_balance", "Low AI-token balance"
    UPGRADE_SUGGESTION = "upgrade_suggestion", "Upgrade suggestions"
    AI_COST_ALERT = "ai_cost_alert", "Platform AI cost"
    PAYMENT_ALERT = "payment_alert", "Disputes and failed refunds"
    DOMAIN_ALERT = "domain_alert", "Domains"


@dataclass(frozen=True)
class CategorySpec:
    description: str
    roles: tuple[str, ...]  # staff roles told; empty for an ops category
    email: bool = True  # the email channel's default (in-app is on by default everywhere)

    @property
    def for_ops(self) -> bool:
        return not self.roles


BILLING_ROLES = (Role.OWNER, Role.BILLING)

SPECS: dict[str, CategorySpec] = {
    # Signing up and accepting an invitation already send an email; the welcome waits in the bell.
    Category.WELCOME: CategorySpec("A first hello when you join the workspace.", tuple(Role), email=False),
    Category.TRIAL_ENDING: CategorySpec("A reminder a few days before the trial ends.", BILLING_ROLES),
    Category.INVOICE_ISSUED: CategorySpec("Each new invoice, with how to pay it.", BILLING_ROLES),
    Category.PAYMENT_SUCCEEDED: CategorySpec("An invoice was paid.", BILLING_ROLES),
    Category.PAYMENT_FAILED: CategorySpec("A payment attempt failed (each attempt).", BILLING_ROLES),
    Category.ACTION_REQUIRED: CategorySpec("Your bank asks you to confirm a payment.", BILLING_ROLES),
    Category.CARD_EXPIRING: CategorySpec("The saved card is about to expire.", BILLING_ROLES),
    Category.SUBSCRIPTION_CHANGED: CategorySpec("The plan, seats or renewal changed.", BILLING_ROLES),
    Category.QUOTE_SENT: CategorySpec("A quote for a service you asked for.", BILLING_ROLES),
    # Admins run the integrations that consume the quota.
    Category.USAGE_ALERT: CategorySpec("80 % and 100 % of a monthly quota used.", (Role.OWNER, Role.ADMIN)),
    # Those who can buy a token pack (the Wallet page is theirs).
    Category.LOW_BALANCE: CategorySpec("The AI-token balance fell to the Wallet's low-balance threshold.",
                                       BILLING_ROLES),
    Category.UPGRADE_SUGGESTION: CategorySpec("Past 80 % of a limit two months in a row.", BILLING_ROLES),
    # Those who manage settings, where domains are added and fixed.
    Category.DOMAIN_ALERT: CategorySpec("A domain's DNS records stopped checking out, or checked out again.",
                                        (Role.OWNER, Role.ADMIN)),
    Category.AI_COST_ALERT: CategorySpec("The platform's Anthropic spend passed the daily threshold.", ()),
    Category.PAYMENT_ALERT: CategorySpec("A cardholder disputed a payment, or money meant for a card could not go "
                                         "back to it.", ()),
}


def categories_for_role(role: str) -> list[str]:
    """The staff categories a member with `role` hears of: the ones their preferences page offers."""
    return [category for category, spec in SPECS.items() if role in spec.roles]


def categories_for_ops() -> list[str]:
    return [category for category, spec in SPECS.items() if spec.for_ops]
