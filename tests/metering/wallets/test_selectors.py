"""Wallet reads: this month's usage is what was really used, the same figure the AI token meters record."""

import uuid
from datetime import datetime, timezone

import pytest

from metering.gateway.client import AiUsage
from metering.gateway.services import ai_release, ai_reserve, ai_settle
from metering.models import Meter, ModelPrice
from metering.usage.selectors import usage_for_period
from metering.wallets.selectors import wallet_summary
from metering.wallets.services import wallet_credit

pytestmark = pytest.mark.django_db


def settled_call(tenant, *, reserved: int, usage: AiUsage | None) -> None:
    reservation = ai_reserve(tenant=tenant, price=ModelPrice.objects.get(model="claude-sonnet-4-6"), tokens=reserved,
                             request_id=uuid.uuid4())
    if usage is None:
        ai_release(reservation=reservation)
    else:
        ai_settle(reservation=reservation, usage=usage)


def test_wallet_used_this_month_matches_ai_token_meters(tenant_alpha):
    wallet_credit(tenant=tenant_alpha, tokens=100_000, kind="purchase", reason="Pack", idempotency_key="pack")
    settled_call(tenant_alpha, reserved=8_192, usage=AiUsage(input_tokens=40, output_tokens=120))
    settled_call(tenant_alpha, reserved=4_096, usage=AiUsage(input_tokens=900, output_tokens=4_000,
                                                             cache_write_tokens=50, cache_read_tokens=25))
    settled_call(tenant_alpha, reserved=100, usage=AiUsage(input_tokens=300, output_tokens=80))  # over
    settled_call(tenant_alpha, reserved=2_000, usage=None)  # the call failed: all of it back

    summary = wallet_summary(tenant=tenant_alpha)
    meters = sum(usage_for_period(tenant=tenant_alpha, meter=Meter.objects.get(code=code),
                                  start=summary.period_start, end=summary.period_end)
                 for code in ("ai_input_tokens", "ai_output_tokens"))

    assert summary.usage_by_feature["ai_api"] == meters == 40 + 120 + 900 + 4_000 + 50 + 25 + 300 + 80


def test_the_summary_reads_a_tenant_without_a_wallet_as_empty(tenant_alpha):
    summary = wallet_summary(tenant=tenant_alpha, now=datetime(2026, 11, 5, tzinfo=timezone.utc))

    assert (summary.balance, summary.owed, summary.usage_total) == (0, 0, 0)
