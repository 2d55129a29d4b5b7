"""Reads on AI-token wallets. Every read takes the tenant, and none creates anything: a tenant without a wallet
reads as an empty one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import QuerySet, Sum
from django.utils import timezone

from billing.selectors import entitlements_for
from metering.models import TokenPack, TokenPurchase, Wallet, WalletEntry, WalletFeature
from metering.usage.selectors import month_bounds
from tenants.models import Tenant


@dataclass(frozen=True)
class WalletSummary:
    balance: int
    owed: int
    low_balance_threshold: int | None
    monthly_allowance: int
    period_start: datetime
    period_end: datetime
    usage_by_feature: dict[str, int] = field(default_factory=dict)

    @property
    def is_low(self) -> bool:
        return self.low_balance_threshold is not None and self.balance <= self.low_balance_threshold

    @property
    def usage_total(self) -> int:
        return sum(self.usage_by_feature.values())


def wallet_get(*, tenant: Tenant) -> Wallet | None:
    return Wallet.objects.filter(tenant=tenant).first()


def wallet_summary(*, tenant: Tenant, now: datetime | None = None) -> WalletSummary:
    """The balance, the tokens owed, the low-balance threshold, the plan's monthly allowance and this month's
    (UTC) usage per feature."""
    start, end = month_bounds(now or timezone.now())
    wallet = wallet_get(tenant=tenant)
    return WalletSummary(
        balance=wallet.balance if wallet else 0,
        owed=wallet.owed if wallet else 0,
        low_balance_threshold=wallet.low_balance_threshold if wallet else None,
        monthly_allowance=entitlements_for(tenant=tenant).monthly_ai_token_allowance,
        period_start=start, period_end=end,
        usage_by_feature=wallet_usage_by_feature(tenant=tenant, start=start, end=end),
    )


def wallet_usage_by_feature(*, tenant: Tenant, start: datetime, end: datetime) -> dict[str, int]:
    """Net tokens used in [start, end), per feature, every feature listed (zeros included): each usage debit
    made in the period (what it took plus what it left owed) less the refunds that name it, whenever they came.
    An AI request counts once, as its real usage, in the month it was reserved. Refunds of debits written before
    refunds named their debit (metering migration 0010) are not subtracted.

    Two range scans and a hash join: the period's debits over the (wallet, created_at) index, and the refunds
    written after the first of them (a refund always comes after its debit) over the (wallet, id) index."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH wallet AS (SELECT id FROM metering_wallet WHERE tenant_id = %s),
            debit AS (
                SELECT entry.id, entry.feature, entry.owed_tokens - entry.tokens AS used
                FROM metering_walletentry AS entry, wallet
                WHERE entry.wallet_id = wallet.id AND entry.kind = 'usage_debit'
                  AND entry.created_at >= %s AND entry.created_at < %s
            ),
            refunded AS (
                SELECT entry.refund_of_id, sum(entry.tokens) AS tokens
                FROM metering_walletentry AS entry, wallet
                WHERE entry.wallet_id = wallet.id AND entry.id > (SELECT min(debit.id) FROM debit)
                  AND entry.refund_of_id IS NOT NULL
                GROUP BY entry.refund_of_id
            )
            SELECT debit.feature, sum(debit.used - coalesce(refunded.tokens, 0))::bigint
            FROM debit LEFT JOIN refunded ON refunded.refund_of_id = debit.id
            GROUP BY debit.feature
            """,
            [tenant.pk, start, end],
        )
        totals = cursor.fetchall()
    usage = dict.fromkeys(WalletFeature.values, 0)
    usage.update(dict(totals))
    return usage


def wallet_entry_list(*, tenant: Tenant) -> QuerySet[WalletEntry]:
    """The tenant's ledger, newest first (id order is the order the entries were applied)."""
    return WalletEntry.objects.filter(wallet__tenant=tenant).order_by("-id")


def wallet_ledger_sum(*, tenant: Tenant) -> int:
    """The sum of every entry of the tenant's wallet: always equal to its balance."""
    return WalletEntry.objects.filter(wallet__tenant=tenant).aggregate(total=Sum("tokens"))["total"] or 0


def token_pack_list_active() -> QuerySet[TokenPack]:
    return TokenPack.objects.filter(active=True).order_by("tokens")


def token_purchase_list(*, tenant: Tenant, status: str | None = None) -> QuerySet[TokenPurchase]:
    purchases = TokenPurchase.objects.filter(tenant=tenant).select_related("pack")
    return purchases.filter(status=status) if status else purchases


def token_purchase_get(*, tenant: Tenant, purchase_id: int) -> TokenPurchase | None:
    return TokenPurchase.objects.filter(tenant=tenant, pk=purchase_id).first()


def token_purchase_of_invoice(*, tenant: Tenant, invoice_id: int) -> TokenPurchase | None:
    """The tenant's order that the invoice sells, if it sells one (billing.token_packs)."""
    return TokenPurchase.objects.filter(tenant=tenant, invoice_id=invoice_id).select_related("pack").first()
