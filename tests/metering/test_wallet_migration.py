"""Metering migration 0010 opens each wallet's allowance from the ledger written before it, by the old rule."""

import importlib
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from django.db import connection

from metering.models import Wallet, WalletEntry
from metering.wallets.services import wallet_ensure, wallet_grants_expire

pytestmark = pytest.mark.django_db

NOV = datetime(2026, 11, 1, tzinfo=timezone.utc)
DEC = datetime(2026, 12, 1, tzinfo=timezone.utc)
migration = importlib.import_module("metering.migrations.0010_wallet_grant_links")


def legacy_ledger(tenant, entries: list[tuple[str, int, dict]]) -> Wallet:
    """Entries as they were written before 0010: no grant links, refunds naming no debit."""
    wallet = wallet_ensure(tenant=tenant)
    balance = 0
    for n, (kind, tokens, extra) in enumerate(entries):
        balance += tokens
        WalletEntry.objects.create(wallet=wallet, kind=kind, tokens=tokens, balance_after=balance, created_at=NOV,
                                   idempotency_key=extra.pop("key", f"legacy-{n}"), **extra)
    Wallet.objects.filter(pk=wallet.pk).update(balance=balance)
    return wallet


def test_an_open_grant_becomes_the_wallets_allowance_by_the_old_rule(tenant_alpha):
    legacy_ledger(tenant_alpha, [
        ("purchase", 500, {}),
        ("grant", 1_000, {"key": "grant:2026-11", "expires_at": DEC}),
        ("usage_debit", -800, {"feature": "ai_api"}),
        ("refund", 700, {}),
        ("usage_debit", -100, {"feature": "ai_api"}),
    ])

    migration.allowances_open(None, SimpleNamespace(connection=connection))

    wallet = Wallet.objects.get(tenant=tenant_alpha)
    granted = WalletEntry.objects.get(idempotency_key="grant:2026-11")
    assert (wallet.balance, wallet.allowance, wallet.allowance_grant_id) == (1_300, 100, granted.pk)
    wallet_grants_expire(now=DEC)
    assert Wallet.objects.get(tenant=tenant_alpha).balance == 1_200


def test_a_grant_that_already_expired_opens_nothing(tenant_alpha):
    legacy_ledger(tenant_alpha, [("grant", 1_000, {"key": "grant:2026-11", "expires_at": DEC})])
    granted = WalletEntry.objects.get(idempotency_key="grant:2026-11")
    WalletEntry.objects.create(wallet=granted.wallet, kind="expiry", tokens=-1_000, balance_after=0, created_at=DEC,
                               idempotency_key=f"expiry:{granted.pk}")
    Wallet.objects.filter(pk=granted.wallet_id).update(balance=0)

    migration.allowances_open(None, SimpleNamespace(connection=connection))

    wallet = Wallet.objects.get(tenant=tenant_alpha)
    assert (wallet.allowance, wallet.allowance_grant_id) == (0, None)
