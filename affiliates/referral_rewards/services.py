"""Writes of tenant referrals.

- `tenant_referrer_ensure`: a tenant's referral account (Affiliate, kind tenant), created on first need.
- `referred_coupon_apply`: a tenant that signed up through another tenant's link gets the program's
  `referred_coupon` on its first subscription, once (billing's `subscription_starting`, before the first invoice).
- `referral_reward_grant`: when that tenant first pays at least the program's minimum, its referrer gets the
  reward once (TenantReferralReward is one-to-one with the referral), as account credit or an AI-token grant, or
  a refusal with its reason when a limit stands in the way (rewards per referrer per calendar year).
- `referral_rewards_expire`: account credit from a reward that is still unused when the reward expires is taken
  back (billing's credit has no expiry of its own; a beat job runs this daily).

Token rewards do not expire: a wallet holds one expiring allowance at a time (the plan's monthly grant, see
metering.wallets.services), so a reward grant with its own expiry would be refused; they are plain grants."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum

from affiliates.fraud.services import fraud_tenant_self_referral_reason
from affiliates.models import Affiliate, AffiliateProgram, Referral, TenantReferralReward
from affiliates.program import program_get
from billing.errors import CouponInvalid
from billing.invoicing.credit import account_credit_add, account_credit_balance, account_credit_entries
from billing.models import AccountCreditEntry, CouponRedemption, Invoice, Subscription
from billing.subscriptions.selectors import coupon_redeemed
from billing.subscriptions.services import coupon_apply
from config.money import Money
from metering.models import WalletEntry
from metering.wallets.services import wallet_credit
from tenants.models import Tenant

logger = logging.getLogger(__name__)

Reward = TenantReferralReward
# The program states the credit reward in US dollars (AffiliateProgram.referrer_reward_amount).
REWARD_CURRENCY = "USD"
SYSTEM = "referral-program"
CODE_SLUG_CHARS = 30


# --- The referral link -------------------------------------------------------------------------------------------

def tenant_referrer_ensure(*, tenant: Tenant, now: datetime) -> Affiliate:
    """The tenant's referral account, created the first time it is needed with a code of its slug and a random
    suffix (codes share one namespace with affiliates', so the suffix keeps a slug from guessing another's).
    Two first views racing create one row: the tenant is unique on it, the loser reads the winner's."""
    existing = Affiliate.objects.filter(tenant=tenant, kind=Affiliate.Kind.TENANT).first()
    if existing is not None:
        return existing
    for _attempt in range(3):
        code = f"{tenant.slug[:CODE_SLUG_CHARS]}-{secrets.token_hex(3)}"
        try:
            with transaction.atomic():
                return Affiliate.objects.create(
                    kind=Affiliate.Kind.TENANT, tenant=tenant, code=code, name=tenant.name[:150],
                    email=tenant.owner_email, created_at=now)
        except IntegrityError:
            existing = Affiliate.objects.filter(tenant=tenant).first()
            if existing is not None:
                return existing
    raise RuntimeError(f"No free referral code for tenant {tenant.pk} after three tries.")


# --- The referred tenant's coupon -------------------------------------------------------------------------------

def referred_coupon_apply(*, subscription: Subscription, now: datetime) -> CouponRedemption | None:
    """Apply the program's referred coupon to a tenant-referred tenant's subscription as it starts, once per tenant
    ever (a second subscription after a cancellation gets none). None when the tenant was not referred by a
    tenant, the program has no coupon, it was had already, or billing refuses it (a code the tenant typed
    already discounts the subscription, the coupon expired or is restricted): the start goes on without it."""
    referral = (Referral.objects.filter(tenant_id=subscription.tenant_id, source=Referral.Source.TENANT_LINK,
                                        affiliate__kind=Affiliate.Kind.TENANT).first())
    if referral is None:
        return None
    coupon = program_get().referred_coupon
    if coupon is None or coupon_redeemed(tenant=subscription.tenant, coupon_id=coupon.pk):
        return None
    try:
        with transaction.atomic():
            redemption = coupon_apply(subscription=subscription, coupon=coupon, actor=SYSTEM, now=now)
    except CouponInvalid as refusal:
        logger.info("referred_coupon_refused tenant=%s coupon=%s reason=%r", subscription.tenant_id, coupon.code,
                    refusal.message)
        return None
    logger.info("referred_coupon_applied tenant=%s coupon=%s referral=%s", subscription.tenant_id, coupon.code,
                referral.pk)
    return redemption


# --- The referrer's reward --------------------------------------------------------------------------------------

@transaction.atomic
def referral_reward_grant(*, invoice: Invoice, now: datetime) -> TenantReferralReward | None:
    """Reward the referrer of the tenant that paid `invoice`, if this is the payment that earns it: the tenant
    was referred through a tenant's link, has no reward decided yet, and paid at least the program's minimum on
    this invoice (compared in the invoice's currency; a smaller payment neither earns nor spends the reward).

    Decided once per referral (the one-to-one row): granted (credit or tokens, as the program says then), or
    refused with its reason (the referrer's yearly limit is reached, its account is suspended or closed, or it
    is the referrer referring itself: affiliates.fraud.services.fraud_tenant_self_referral_reason, the owner's
    email or its company's domain, someone on both teams, a signup from where the referrer's staff signed in).
    The referrer's account row is locked while deciding, so two referred tenants paying at once cannot both take
    the last reward of the year."""
    if invoice.amount_paid <= 0:
        return None
    referral = (Referral.objects.select_related("affiliate", "tenant", "click")
                .filter(tenant_id=invoice.tenant_id, source=Referral.Source.TENANT_LINK,
                        affiliate__kind=Affiliate.Kind.TENANT).first())
    if referral is None:
        return None
    program = program_get()
    if invoice.amount_paid < program.referral_min_first_payment:
        return None
    referrer_account = (Affiliate.objects.select_for_update(of=("self",)).select_related("tenant")
                        .get(pk=referral.affiliate_id))
    if Reward.objects.filter(referral=referral).exists():
        return None
    referrer = referrer_account.tenant
    tokens = program.referrer_reward == AffiliateProgram.ReferrerReward.TOKENS
    kind = Reward.Kind.TOKENS if tokens else Reward.Kind.CREDIT
    reward = Reward(referrer=referrer, referral=referral, kind=kind, invoice=invoice, granted_at=now,
                    currency=REWARD_CURRENCY)
    if kind == Reward.Kind.CREDIT:
        reward.amount = program.referrer_reward_amount
    else:
        reward.tokens = program.referrer_reward_tokens
    refusal = _refusal(referral=referral, referrer_account=referrer_account, program=program, now=now)
    if refusal:
        reward.status, reward.reason = Reward.Status.REFUSED, refusal
        reward.save()
        logger.info("referral_reward_refused referrer=%s referral=%s reason=%r", referrer.pk, referral.pk, refusal)
        return reward
    reward.status = Reward.Status.GRANTED
    if program.referral_reward_expiry_days and kind == Reward.Kind.CREDIT:
        reward.expires_at = now + timedelta(days=program.referral_reward_expiry_days)
    reward.save()
    _reward_pay(reward, now=now)
    logger.info("referral_reward_granted referrer=%s referral=%s kind=%s amount=%s tokens=%s", referrer.pk,
                referral.pk, kind, reward.amount, reward.tokens)
    return reward


def rewards_this_year(*, referrer: Tenant, now: datetime) -> int:
    """Rewards the referrer was granted in `now`'s calendar year (UTC), expired ones included: the yearly limit
    counts rewards given, not rewards still unused."""
    return Reward.objects.filter(referrer=referrer, granted_at__year=now.year,
                                 status__in=[Reward.Status.GRANTED, Reward.Status.EXPIRED]).count()


def _refusal(*, referral: Referral, referrer_account: Affiliate, program: AffiliateProgram,
             now: datetime) -> str:
    referrer = referrer_account.tenant
    if referrer_account.status != Affiliate.Status.ACTIVE:
        return "The referrer's referral account is suspended."
    if not referrer.is_active:
        return f"The referring workspace is {referrer.get_status_display().lower()}."
    self_referral = fraud_tenant_self_referral_reason(referral=referral, referrer_account=referrer_account)
    if self_referral:
        return self_referral
    limit = program.referrer_rewards_per_year
    if rewards_this_year(referrer=referrer, now=now) >= limit:
        return f"The referrer already had {limit} rewards in {now.year} (the yearly limit)."
    return ""


def _reward_pay(reward: TenantReferralReward, *, now: datetime) -> None:
    key = f"referral_reward:{reward.referral_id}"
    description = f"Referral reward: a workspace you referred became a paying customer ({reward.referral_id})"
    if reward.kind == Reward.Kind.CREDIT:
        account_credit_add(tenant=reward.referrer, amount=Money(reward.amount, reward.currency),
                           kind=AccountCreditEntry.Kind.PROMOTION, description=description, actor=SYSTEM, now=now,
                           idempotency_key=key)
    else:
        wallet_credit(tenant=reward.referrer, tokens=reward.tokens, kind=WalletEntry.Kind.GRANT,
                      reason=description[:255], idempotency_key=key, created_by=SYSTEM, now=now)


# --- Expiry of unused credit ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExpiryResult:
    expired: int
    taken_back: Decimal


def referral_rewards_expire(*, now: datetime) -> ExpiryResult:
    """Expire the credit rewards whose time is up: each in its own transaction, what is left of it is taken back
    from the referrer's credit (an adjustment, idempotent by the reward), and the reward is marked expired."""
    due = list(Reward.objects.filter(status=Reward.Status.GRANTED, kind=Reward.Kind.CREDIT, expires_at__lte=now)
               .values_list("pk", flat=True))
    expired, taken_back = 0, Decimal(0)
    for reward_id in due:
        taken = _reward_expire(reward_id=reward_id, now=now)
        if taken is not None:
            expired += 1
            taken_back += taken
    return ExpiryResult(expired=expired, taken_back=taken_back)


@transaction.atomic
def _reward_expire(*, reward_id: int, now: datetime) -> Decimal | None:
    reward = (Reward.objects.select_for_update(of=("self",)).select_related("referrer")
              .filter(pk=reward_id, status=Reward.Status.GRANTED).first())
    if reward is None:
        return None
    left = reward_credit_unused(reward=reward)
    if left > 0:
        account_credit_add(
            tenant=reward.referrer, amount=Money(-left, reward.currency), kind=AccountCreditEntry.Kind.ADJUSTMENT,
            description=f"Unused referral reward expired ({reward.referral_id})", actor=SYSTEM, now=now,
            idempotency_key=f"referral_reward_expiry:{reward.referral_id}")
    reward.status = Reward.Status.EXPIRED
    reward.reason = f"Expired on {now:%d %b %Y} with {left} {reward.currency} unused."
    reward.save(update_fields=["status", "reason"])
    logger.info("referral_reward_expired referrer=%s reward=%s unused=%s", reward.referrer_id, reward.pk, left)
    return left


@transaction.atomic
def referral_reward_take_back(*, invoice: Invoice, now: datetime) -> TenantReferralReward | None:
    """The payment that earned a credit reward was taken back by the payer's bank (a dispute lost): what is left
    of the credit is taken back too (an adjustment, once) and the reward is refused with why, so a referred
    signup that pays and then disputes its payment earns its referrer nothing. None when `invoice` earned no
    credit reward still granted (a token reward stays: tokens may be spent the moment they arrive)."""
    reward = (Reward.objects.select_for_update(of=("self",)).select_related("referrer")
              .filter(invoice=invoice, kind=Reward.Kind.CREDIT, status=Reward.Status.GRANTED).first())
    if reward is None:
        return None
    left = reward_credit_unused(reward=reward)
    if left > 0:
        account_credit_add(
            tenant=reward.referrer, amount=Money(-left, reward.currency), kind=AccountCreditEntry.Kind.ADJUSTMENT,
            description=f"Referral reward taken back: its payment was disputed ({reward.referral_id})",
            actor=SYSTEM, now=now, idempotency_key=f"referral_reward_taken_back:{reward.referral_id}")
    reward.status = Reward.Status.REFUSED
    reward.reason = (f"Taken back on {now:%d %b %Y} ({left} {reward.currency} unused): the payment that earned it "
                     "was disputed and lost.")
    reward.save(update_fields=["status", "reason"])
    logger.info("referral_reward_taken_back referrer=%s reward=%s unused=%s", reward.referrer_id, reward.pk, left)
    return reward


def reward_credit_unused(*, reward: TenantReferralReward) -> Decimal:
    """What is left of a credit reward, spending credit oldest first: the balance now is made of the latest
    additions, so the reward's part of it is the balance less what was added after the reward, capped at the
    reward (never below zero)."""
    balance = account_credit_balance(tenant=reward.referrer, currency=reward.currency).amount
    added_after = (account_credit_entries(tenant=reward.referrer)
                   .filter(account__currency=reward.currency, amount__gt=0, created_at__gt=reward.granted_at)
                   .filter(~Q(kind=AccountCreditEntry.Kind.INVOICE))
                   .aggregate(total=Sum("amount"))["total"] or Decimal(0))
    return max(min(reward.amount, balance - added_after), Decimal(0))
