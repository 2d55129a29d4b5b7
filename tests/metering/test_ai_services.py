"""The AI gateway's pricing (exact decimals) and its settlement, which squares the wallet exactly once."""

import uuid
from decimal import Decimal

import pytest

from metering.ai_client import AiUsage
from metering.ai_services import ai_cost, ai_release, ai_reserve, ai_settle, input_tokens_estimate
from metering.models import ModelPrice, UsageEvent, Wallet, WalletEntry
from metering.wallet_services import InsufficientBalance, wallet_credit

pytestmark = pytest.mark.django_db


def price(**rates) -> ModelPrice:
    defaults = {"input_per_mtok": Decimal("3"), "output_per_mtok": Decimal("15"),
                "cache_write_per_mtok": Decimal("3.75"), "cache_read_per_mtok": Decimal("0.30")}
    return ModelPrice(model="claude-sonnet-4-6", currency="USD", **{**defaults, **rates})


# --- Pricing ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("usage", "expected"), [
    (AiUsage(), "0.000000"),
    (AiUsage(input_tokens=1_000_000), "3.000000"),
    (AiUsage(output_tokens=1_000_000), "15.000000"),
    (AiUsage(cache_write_tokens=1_000_000), "3.750000"),
    (AiUsage(cache_read_tokens=1_000_000), "0.300000"),
    # 1234 x 3 + 567 x 15 + 89 x 3.75 + 10 x 0.30 = 3702 + 8505 + 333.75 + 3 = 12543.75 micro-dollars
    (AiUsage(input_tokens=1234, output_tokens=567, cache_write_tokens=89, cache_read_tokens=10), "0.012544"),
    # 1 input token: 3 micro-dollars exactly; 1 cache read: 0.3 rounds to 0.
    (AiUsage(input_tokens=1), "0.000003"),
    (AiUsage(cache_read_tokens=1), "0.000000"),
    (AiUsage(cache_read_tokens=5), "0.000002"),  # 1.5 rounds half up
])
def test_cost_is_exact_decimal_at_per_million_prices(usage, expected):
    cost = ai_cost(price=price(), usage=usage)

    assert isinstance(cost, Decimal)
    assert str(cost) == expected


def test_seeded_list_prices():
    rows = {row.model: (row.input_per_mtok, row.output_per_mtok, row.cache_write_per_mtok, row.cache_read_per_mtok)
            for row in ModelPrice.objects.filter(active=True)}

    assert rows["claude-sonnet-4-6"] == (Decimal("3"), Decimal("15"), Decimal("3.75"), Decimal("0.30"))
    assert rows["claude-haiku-4-5"] == (Decimal("1"), Decimal("5"), Decimal("1.25"), Decimal("0.10"))
    assert rows["claude-opus-4-1"] == (Decimal("15"), Decimal("75"), Decimal("18.75"), Decimal("1.50"))


def test_the_input_estimate_is_characters_over_four_rounded_up():
    assert input_tokens_estimate(system="", messages=[{"role": "user", "content": "a"}]) == 1
    assert input_tokens_estimate(system="12345678", messages=[{"role": "user", "content": "9"}]) == 3
    assert input_tokens_estimate(system="", messages=[{"role": "user", "content": ""}]) == 1


# --- Settlement ---------------------------------------------------------------------------------------------

@pytest.fixture
def reservation(tenant_alpha):
    wallet_credit(tenant=tenant_alpha, tokens=10_000, kind="purchase", reason="Purchase", idempotency_key="bought")
    return ai_reserve(tenant=tenant_alpha, price=ModelPrice.objects.get(model="claude-haiku-4-5"), tokens=1_000,
                      request_id=uuid.uuid4())


def balance(tenant) -> int:
    return Wallet.objects.get(tenant=tenant).balance


def test_the_reservation_is_taken_from_the_wallet(reservation, tenant_alpha):
    assert balance(tenant_alpha) == 9_000


def test_a_reservation_needs_the_balance(tenant_alpha):
    with pytest.raises(InsufficientBalance):
        ai_reserve(tenant=tenant_alpha, price=ModelPrice.objects.get(model="claude-haiku-4-5"), tokens=1,
                   request_id=uuid.uuid4())


def test_a_retried_settle_changes_nothing(reservation, tenant_alpha):
    usage = AiUsage(input_tokens=100, output_tokens=50, cache_read_tokens=10)

    first = ai_settle(reservation=reservation, usage=usage)
    second = ai_settle(reservation=reservation, usage=usage)

    assert first == second
    assert balance(tenant_alpha) == 10_000 - 160
    assert WalletEntry.objects.filter(wallet__tenant=tenant_alpha, kind="refund").count() == 1
    events = {event.meter_code: event.properties["tokens"]
              for event in UsageEvent.objects.filter(tenant=tenant_alpha, meter_code__startswith="ai_")}
    assert events == {"ai_input_tokens": 110, "ai_output_tokens": 50}
    assert UsageEvent.objects.filter(tenant=tenant_alpha, meter_code__startswith="ai_").count() == 2


def test_usage_over_the_reservation_is_debited_once(reservation, tenant_alpha):
    usage = AiUsage(input_tokens=1_200, output_tokens=300)

    ai_settle(reservation=reservation, usage=usage)
    ai_settle(reservation=reservation, usage=usage)

    assert balance(tenant_alpha) == 10_000 - 1_500
    assert list(WalletEntry.objects.filter(wallet__tenant=tenant_alpha, idempotency_key__startswith="ai-settle:")
                .values_list("kind", "tokens")) == [("usage_debit", -500)]


def test_usage_exactly_the_reservation_writes_no_settlement_entry(reservation, tenant_alpha):
    ai_settle(reservation=reservation, usage=AiUsage(input_tokens=400, output_tokens=600))

    assert balance(tenant_alpha) == 9_000
    settlements = WalletEntry.objects.filter(wallet__tenant=tenant_alpha, idempotency_key__startswith="ai-settle:")
    assert not settlements.exists()


def test_a_release_gives_the_whole_reservation_back_and_records_no_usage(reservation, tenant_alpha):
    ai_release(reservation=reservation)
    ai_release(reservation=reservation)

    assert balance(tenant_alpha) == 10_000
    assert not UsageEvent.objects.filter(tenant=tenant_alpha, meter_code__startswith="ai_").exists()
