import threading
from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from accounts.models import Role, User
from billing.models import Plan
from config.lookup_cache import lookup_clear
from metering.models import TokenPack, TokenPurchase, Wallet, WalletEntry
from metering.tasks import wallet_grants_expire_task, wallet_monthly_grants_task
from metering.usage.selectors import month_bounds
from metering.wallets.selectors import wallet_ledger_sum, wallet_usage_by_feature
from metering.wallets.services import (
    IdempotencyKeyReused,
    InsufficientBalance,
    PurchaseNotPending,
    TokenPackUnavailable,
    WalletError,
    token_purchase_cancel,
    token_purchase_create,
    token_purchase_mark_paid,
    wallet_credit,
    wallet_debit,
    wallet_debit_or_owe,
    wallet_grants_expire,
    wallet_low_balance_notify,
    wallet_monthly_grant,
    wallet_monthly_grants_run,
    wallet_refund,
    wallet_threshold_set,
)
from notifications.categories import Category
from notifications.models import Notification
from notifications.selectors import Channels
from notifications.services import notification_preferences_update
from tenants.models import Tenant
from tests.support.tenants import owner_of, tenant_metering_purge

NOV = datetime(2026, 11, 1, tzinfo=timezone.utc)
DEC = datetime(2026, 12, 1, tzinfo=timezone.utc)
JAN = datetime(2027, 1, 1, tzinfo=timezone.utc)
OPS = "ops@tollgate.test"


def credit(tenant, tokens, *, kind="purchase", key=None, now=None, expires_at=None, reason="test credit"):
    return wallet_credit(tenant=tenant, tokens=tokens, kind=kind, reason=reason, now=now, expires_at=expires_at,
                         idempotency_key=key or f"{kind}-{tokens}-{now}-{expires_at}-{WalletEntry.objects.count()}")


def debit(tenant, tokens, *, key=None, feature="ai_api", now=None):
    return wallet_debit(tenant=tenant, tokens=tokens, feature=feature, reason="test usage", now=now,
                        idempotency_key=key or f"debit-{WalletEntry.objects.count()}")


def grant(tenant, tokens, *, at, expires_at):
    return credit(tenant, tokens, kind="grant", now=at, expires_at=expires_at)


def refund(tenant, debit_key, tokens, *, key=None, now=None):
    return wallet_refund(tenant=tenant, debit_key=debit_key, tokens=tokens, reason="test refund", now=now,
                         idempotency_key=key or f"refund-{debit_key}-{WalletEntry.objects.count()}")


def owed(tenant) -> int:
    return Wallet.objects.get(tenant=tenant).owed


def balance(tenant) -> int:
    return Wallet.objects.get(tenant=tenant).balance


def expiries(tenant) -> list[int]:
    return list(WalletEntry.objects.filter(wallet__tenant=tenant, kind="expiry").order_by("id")
                .values_list("tokens", flat=True))


def staff_create(tenant, email: str, role: str) -> User:
    with schema_context(tenant.schema_name):
        return User.objects.create_user(email, "pw-wallet-staff-1", role=role)


# --- Debits ------------------------------------------------------------------------------------------

def test_a_debit_takes_the_tokens_and_writes_its_entry(tenant_alpha):
    credit(tenant_alpha, 1_000)

    entry = debit(tenant_alpha, 300, feature="coach", key="run-1")

    stored = WalletEntry.objects.get(pk=entry.pk)
    assert (stored.kind, stored.tokens, stored.balance_after, stored.feature) == ("usage_debit", -300, 700, "coach")
    assert balance(tenant_alpha) == 700 == wallet_ledger_sum(tenant=tenant_alpha)


def test_a_debit_larger_than_the_balance_is_refused_and_changes_nothing(tenant_alpha):
    credit(tenant_alpha, 100)

    with pytest.raises(InsufficientBalance) as refused:
        debit(tenant_alpha, 101)

    assert (refused.value.balance, refused.value.requested) == (100, 101)
    assert balance(tenant_alpha) == 100
    assert not WalletEntry.objects.filter(kind="usage_debit").exists()


def test_insufficient_balance_is_a_402_with_its_code():
    error = InsufficientBalance(balance=0, requested=5)

    assert (error.status, error.code, error.field) == (402, "insufficient_balance", None)
    assert "5 needed, 0 available" in error.message


def test_a_tenant_without_a_wallet_has_nothing_to_debit(tenant_alpha):
    with pytest.raises(InsufficientBalance):
        debit(tenant_alpha, 1)

    assert not Wallet.objects.filter(tenant=tenant_alpha).exists()


def test_a_debit_may_take_the_balance_to_exactly_zero(tenant_alpha):
    credit(tenant_alpha, 50)

    assert debit(tenant_alpha, 50).balance_after == 0


def test_a_retried_debit_returns_the_first_entry_and_changes_nothing(tenant_alpha):
    credit(tenant_alpha, 1_000)
    first = debit(tenant_alpha, 200, key="gateway-call-7")

    retry = debit(tenant_alpha, 200, key="gateway-call-7")

    assert retry.pk == first.pk
    assert balance(tenant_alpha) == 800
    assert WalletEntry.objects.filter(kind="usage_debit").count() == 1


def test_a_retry_is_answered_even_once_the_balance_no_longer_covers_it(tenant_alpha):
    credit(tenant_alpha, 200)
    first = debit(tenant_alpha, 200, key="gateway-call-8")

    assert debit(tenant_alpha, 200, key="gateway-call-8").pk == first.pk


def test_a_key_reused_for_a_different_debit_is_refused(tenant_alpha):
    credit(tenant_alpha, 1_000)
    debit(tenant_alpha, 200, key="gateway-call-9")

    with pytest.raises(IdempotencyKeyReused):
        debit(tenant_alpha, 300, key="gateway-call-9")
    assert balance(tenant_alpha) == 800


def test_debit_keys_are_per_wallet(tenant_alpha, tenant_beta):
    credit(tenant_alpha, 10)
    credit(tenant_beta, 10)
    debit(tenant_alpha, 4, key="shared")

    debit(tenant_beta, 4, key="shared")

    assert (balance(tenant_alpha), balance(tenant_beta)) == (6, 6)


@pytest.mark.parametrize("tokens", [0, -5, 1.5, True, 10**15 + 1])
def test_a_debit_needs_a_positive_whole_number_of_tokens(tenant_alpha, tokens):
    credit(tenant_alpha, 100)

    with pytest.raises(ValueError):
        debit(tenant_alpha, tokens)


def test_a_debit_needs_a_known_feature(tenant_alpha):
    credit(tenant_alpha, 100)

    with pytest.raises(ValueError):
        debit(tenant_alpha, 1, feature="images")


def test_a_debit_inside_a_callers_transaction_rolls_back_with_it(tenant_alpha):
    credit(tenant_alpha, 100)

    with pytest.raises(RuntimeError), transaction.atomic():
        debit(tenant_alpha, 40)
        raise RuntimeError("the caller failed after the debit")

    assert balance(tenant_alpha) == 100


# --- What the database itself refuses ----------------------------------------------------------------

def test_the_database_refuses_a_negative_balance(tenant_alpha):
    credit(tenant_alpha, 10)

    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.filter(tenant=tenant_alpha).update(balance=-1)


def test_the_database_refuses_to_change_a_ledger_entry(tenant_alpha):
    entry = credit(tenant_alpha, 10)

    with pytest.raises(IntegrityError), transaction.atomic():
        WalletEntry.objects.filter(pk=entry.pk).update(tokens=1_000_000)


def test_the_database_refuses_to_delete_a_ledger_entry(tenant_alpha):
    entry = credit(tenant_alpha, 10)

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM metering_walletentry WHERE id = %s", [entry.pk])


def test_the_database_refuses_a_usage_entry_that_adds_tokens(tenant_alpha):
    wallet = credit(tenant_alpha, 10).wallet

    with pytest.raises(IntegrityError), transaction.atomic():
        WalletEntry.objects.create(wallet=wallet, kind="usage_debit", tokens=5, balance_after=15, feature="coach",
                                   idempotency_key="forged", created_at=NOV)


# --- Concurrency (real commits, one connection per thread) --------------------------------------------

@pytest.fixture
def committed_alpha(committed_db):
    """Tenant alpha for tests whose wallet rows must be committed; removes them afterwards."""
    alpha = Tenant.objects.get(slug="alpha")
    yield alpha
    tenant_metering_purge(alpha)


def run_in_threads(count: int, work) -> list:
    """Start `count` threads together; each runs work(n) on its own connection. Returns their outcomes."""
    barrier = threading.Barrier(count)
    outcomes: list = [None] * count

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[n] = work(n)
        except Exception as error:  # the outcome under test
            outcomes[n] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_fifty_concurrent_debits_against_a_balance_for_thirty_succeed_exactly_thirty_times(committed_alpha):
    credit(committed_alpha, 30, key="seed")

    outcomes = run_in_threads(50, lambda n: debit(committed_alpha, 1, key=f"concurrent-{n}"))

    succeeded = [outcome for outcome in outcomes if isinstance(outcome, WalletEntry)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, InsufficientBalance)]
    assert (len(succeeded), len(refused)) == (30, 20)
    assert balance(committed_alpha) == 0 == wallet_ledger_sum(tenant=committed_alpha)
    assert sorted(entry.balance_after for entry in succeeded) == list(range(30))


def test_concurrent_debits_with_one_key_debit_once(committed_alpha):
    credit(committed_alpha, 100, key="seed")

    outcomes = run_in_threads(10, lambda n: debit(committed_alpha, 7, key="same-call"))

    assert {outcome.pk for outcome in outcomes} == {WalletEntry.objects.get(idempotency_key="same-call").pk}
    assert balance(committed_alpha) == 93 == wallet_ledger_sum(tenant=committed_alpha)


def test_concurrent_reservations_and_refunds_keep_the_allowance_exact(committed_alpha):
    credit(committed_alpha, 100_000, key="seed")
    granted = credit(committed_alpha, 5_000, kind="grant", key="grant", now=NOV, expires_at=DEC)

    def reserve_and_refund(n: int) -> None:
        debit(committed_alpha, 500, key=f"ai-reserve:{n}")
        refund(committed_alpha, f"ai-reserve:{n}", 450, key=f"ai-settle:{n}")

    outcomes = run_in_threads(20, reserve_and_refund)

    assert [outcome for outcome in outcomes if outcome is not None] == []
    entries = WalletEntry.objects.filter(wallet__tenant=committed_alpha)
    wallet = Wallet.objects.get(tenant=committed_alpha)
    allowance_moved = sum(entries.filter(grant_id=granted.pk).values_list("grant_tokens", flat=True))
    assert wallet.allowance == 5_000 + allowance_moved
    assert wallet.balance == 105_000 - 20 * 50 == wallet_ledger_sum(tenant=committed_alpha)
    wallet_grants_expire(now=DEC)
    assert balance(committed_alpha) == 105_000 - 20 * 50 - wallet.allowance


# --- Credits -----------------------------------------------------------------------------------------

def test_a_credit_opens_the_wallet_and_adds_the_tokens(tenant_alpha):
    entry = wallet_credit(tenant=tenant_alpha, tokens=500, kind="purchase", reason="Pack", idempotency_key="p1")

    assert (entry.kind, entry.tokens, entry.balance_after, entry.reason) == ("purchase", 500, 500, "Pack")
    assert balance(tenant_alpha) == 500


def test_a_refund_that_names_no_debit_is_refused(tenant_alpha):
    with pytest.raises(ValueError):
        wallet_credit(tenant=tenant_alpha, tokens=500, kind="refund", reason="Failed AI call", idempotency_key="r1")


def test_a_retried_credit_adds_once(tenant_alpha):
    first = credit(tenant_alpha, 500, key="bonus-1")

    assert credit(tenant_alpha, 500, key="bonus-1").pk == first.pk
    assert balance(tenant_alpha) == 500


def test_a_negative_adjustment_takes_tokens_away(tenant_alpha):
    credit(tenant_alpha, 500)

    entry = credit(tenant_alpha, -200, kind="adjustment", reason="Duplicate purchase credited")

    assert (entry.tokens, entry.balance_after) == (-200, 300)


def test_an_adjustment_below_zero_is_refused(tenant_alpha):
    credit(tenant_alpha, 100)

    with pytest.raises(InsufficientBalance):
        credit(tenant_alpha, -101, kind="adjustment")
    assert balance(tenant_alpha) == 100


def test_an_adjustment_needs_a_reason(tenant_alpha):
    with pytest.raises(WalletError) as refused:
        credit(tenant_alpha, 10, kind="adjustment", reason="  ")

    assert refused.value.field == "reason"


@pytest.mark.parametrize(("kind", "tokens"), [("purchase", -5), ("grant", 0), ("refund", -1), ("usage_debit", 5),
                                              ("expiry", -5)])
def test_credits_refuse_kinds_and_signs_that_do_not_fit(tenant_alpha, kind, tokens):
    with pytest.raises(ValueError):
        credit(tenant_alpha, tokens, kind=kind)


def test_only_grants_expire(tenant_alpha):
    with pytest.raises(ValueError):
        credit(tenant_alpha, 10, kind="purchase", expires_at=DEC)


# --- Low-balance alert (notifications) -------------------------------------------------------------------

def low_balance_told(tenant) -> list[tuple[str, str]]:
    with schema_context(tenant.schema_name):
        return sorted(Notification.objects.filter(category=Category.LOW_BALANCE)
                      .values_list("recipient__email", "link"))


def test_crossing_the_threshold_notifies_after_commit_with_links_to_the_wallet_and_to_buy(
        tenant_alpha, django_capture_on_commit_callbacks):
    credit(tenant_alpha, 1_000)
    wallet_threshold_set(tenant=tenant_alpha, threshold=500)

    with django_capture_on_commit_callbacks(execute=True):
        debit(tenant_alpha, 600)
        assert mail.outbox == [] and low_balance_told(tenant_alpha) == []

    assert low_balance_told(tenant_alpha) == [("owner@alpha.test", "/wallet/")]
    [message] = mail.outbox
    assert message.to == ["owner@alpha.test"]
    assert "400 tokens" in message.body and "400 tokens" in message.alternatives[0][0]
    assert "http://alpha.localhost/wallet/\n" in message.body
    assert "http://alpha.localhost/wallet/#wallet-buy-title" in message.body


def test_owners_and_billing_members_are_told_of_a_low_balance_not_members_or_admins(
        tenant_alpha, django_capture_on_commit_callbacks):
    staff_create(tenant_alpha, "second-owner@alpha.test", Role.OWNER)
    staff_create(tenant_alpha, "member@alpha.test", Role.MEMBER)
    staff_create(tenant_alpha, "admin@alpha.test", Role.ADMIN)
    staff_create(tenant_alpha, "billing@alpha.test", Role.BILLING)
    credit(tenant_alpha, 100)
    wallet_threshold_set(tenant=tenant_alpha, threshold=50)

    with django_capture_on_commit_callbacks(execute=True):
        debit(tenant_alpha, 60)

    assert [email for email, _ in low_balance_told(tenant_alpha)] == [
        "billing@alpha.test", "owner@alpha.test", "second-owner@alpha.test"]
    assert sorted(mail.outbox[0].to) == ["billing@alpha.test", "owner@alpha.test", "second-owner@alpha.test"]


def test_an_owner_who_turned_low_balance_emails_off_is_told_in_the_app_only(tenant_alpha,
                                                                           django_capture_on_commit_callbacks):
    with schema_context(tenant_alpha.schema_name):
        notification_preferences_update(user=owner_of(tenant_alpha),
                                        choices={Category.LOW_BALANCE: Channels(in_app=True, email=False)})
    credit(tenant_alpha, 100)
    wallet_threshold_set(tenant=tenant_alpha, threshold=50)

    with django_capture_on_commit_callbacks(execute=True):
        debit(tenant_alpha, 60)

    assert low_balance_told(tenant_alpha) == [("owner@alpha.test", "/wallet/")]
    assert mail.outbox == []


def test_a_crossing_announced_again_tells_nobody_twice(tenant_alpha, django_capture_on_commit_callbacks):
    credit(tenant_alpha, 100)
    wallet_threshold_set(tenant=tenant_alpha, threshold=50)
    with django_capture_on_commit_callbacks(execute=True):
        entry = debit(tenant_alpha, 60)

    with django_capture_on_commit_callbacks(execute=True):
        again = wallet_low_balance_notify(tenant=tenant_alpha, balance=40, threshold=50, entry_id=entry.pk)

    assert (again.notified, again.email) == (0, None)
    assert len(low_balance_told(tenant_alpha)) == 1 and len(mail.outbox) == 1


def test_further_debits_below_the_threshold_send_nothing_more(tenant_alpha, django_capture_on_commit_callbacks):
    credit(tenant_alpha, 100)
    wallet_threshold_set(tenant=tenant_alpha, threshold=50)

    with django_capture_on_commit_callbacks(execute=True):
        debit(tenant_alpha, 50)
        debit(tenant_alpha, 10)
        debit(tenant_alpha, 10)

    assert len(mail.outbox) == 1 and len(low_balance_told(tenant_alpha)) == 1


def test_after_a_top_up_above_the_threshold_the_next_crossing_is_told_again(tenant_alpha,
                                                                           django_capture_on_commit_callbacks):
    credit(tenant_alpha, 100)
    wallet_threshold_set(tenant=tenant_alpha, threshold=50)

    with django_capture_on_commit_callbacks(execute=True):
        debit(tenant_alpha, 60)
        credit(tenant_alpha, 100)
        debit(tenant_alpha, 100)

    assert len(mail.outbox) == 2
    with schema_context(tenant_alpha.schema_name):
        assert Notification.objects.filter(category=Category.LOW_BALANCE).values("cause").distinct().count() == 2


def test_usage_charged_beyond_a_reservation_that_crosses_the_threshold_is_told_too(tenant_alpha,
                                                                                  django_capture_on_commit_callbacks):
    credit(tenant_alpha, 100)
    wallet_threshold_set(tenant=tenant_alpha, threshold=50)

    with django_capture_on_commit_callbacks(execute=True):
        wallet_debit_or_owe(tenant=tenant_alpha, tokens=60, feature="ai_api", reason="usage over reservation",
                            idempotency_key="owe-1")

    assert low_balance_told(tenant_alpha) == [("owner@alpha.test", "/wallet/")]


def test_a_debit_that_does_not_cross_the_threshold_costs_no_query_more_than_one_without(tenant_alpha):
    credit(tenant_alpha, 1_000)
    with CaptureQueriesContext(connection) as without_threshold:
        debit(tenant_alpha, 10)
    wallet_threshold_set(tenant=tenant_alpha, threshold=100)

    with CaptureQueriesContext(connection) as with_threshold:
        debit(tenant_alpha, 10)

    assert len(with_threshold) == len(without_threshold)


def test_no_threshold_means_no_alert(tenant_alpha, django_capture_on_commit_callbacks):
    credit(tenant_alpha, 100)

    with django_capture_on_commit_callbacks(execute=True):
        debit(tenant_alpha, 100)

    assert mail.outbox == [] and low_balance_told(tenant_alpha) == []


def test_a_rolled_back_debit_tells_nobody(tenant_alpha, django_capture_on_commit_callbacks):
    credit(tenant_alpha, 100)
    wallet_threshold_set(tenant=tenant_alpha, threshold=50)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            debit(tenant_alpha, 60)
            raise RuntimeError("the caller failed")

    assert callbacks == [] and mail.outbox == [] and low_balance_told(tenant_alpha) == []


def test_a_negative_threshold_is_refused(tenant_alpha):
    with pytest.raises(WalletError) as refused:
        wallet_threshold_set(tenant=tenant_alpha, threshold=-1)

    assert refused.value.field == "low_balance_threshold"


# --- Token purchases ---------------------------------------------------------------------------------

@pytest.fixture
def pack_1m(db) -> TokenPack:
    return TokenPack.objects.get(code="tokens-1m")


def test_the_seeded_packs_cost_ten_cents_per_thousand_tokens(db):
    packs = {pack.code: (pack.tokens, str(pack.price), pack.currency) for pack in TokenPack.objects.all()}

    assert packs == {"tokens-100k": (100_000, "10.00", "USD"), "tokens-1m": (1_000_000, "100.00", "USD")}


def test_ordering_a_pack_makes_a_pending_purchase_at_its_price(tenant_alpha, pack_1m):
    purchase = token_purchase_create(tenant=tenant_alpha, pack=pack_1m, created_by="owner@alpha.test")

    assert (purchase.status, purchase.tokens, str(purchase.price), purchase.currency) == (
        "pending", 1_000_000, "100.00", "USD")
    assert not Wallet.objects.filter(tenant=tenant_alpha).exists()


def test_ordering_a_pack_already_awaiting_payment_returns_that_order(tenant_alpha, pack_1m):
    first = token_purchase_create(tenant=tenant_alpha, pack=pack_1m, created_by="owner@alpha.test")

    again = token_purchase_create(tenant=tenant_alpha, pack=pack_1m, created_by="owner@alpha.test")

    assert again.pk == first.pk
    assert TokenPurchase.objects.filter(tenant=tenant_alpha).count() == 1


def test_an_inactive_pack_cannot_be_ordered(tenant_alpha, pack_1m):
    TokenPack.objects.filter(pk=pack_1m.pk).update(active=False)

    with pytest.raises(TokenPackUnavailable):
        token_purchase_create(tenant=tenant_alpha, pack=pack_1m, created_by="owner@alpha.test")


def test_a_later_price_change_does_not_alter_an_order(tenant_alpha, pack_1m):
    purchase = token_purchase_create(tenant=tenant_alpha, pack=pack_1m, created_by="owner@alpha.test")
    TokenPack.objects.filter(pk=pack_1m.pk).update(price="150.00", tokens=900_000)

    token_purchase_mark_paid(purchase=purchase, actor=OPS)

    assert balance(tenant_alpha) == 1_000_000


def test_marking_a_purchase_paid_credits_its_tokens(tenant_alpha, pack_1m):
    purchase = token_purchase_create(tenant=tenant_alpha, pack=pack_1m, created_by="owner@alpha.test")

    paid = token_purchase_mark_paid(purchase=purchase, actor=OPS)

    entry = WalletEntry.objects.get(wallet__tenant=tenant_alpha)
    assert (paid.status, paid.paid_at is not None) == ("paid", True)
    assert (entry.kind, entry.tokens, entry.idempotency_key, entry.created_by) == (
        "purchase", 1_000_000, f"purchase:{purchase.pk}", OPS)
    assert balance(tenant_alpha) == 1_000_000


def test_marking_a_purchase_paid_twice_credits_once(tenant_alpha, pack_1m):
    purchase = token_purchase_create(tenant=tenant_alpha, pack=pack_1m, created_by="owner@alpha.test")
    token_purchase_mark_paid(purchase=purchase, actor=OPS)

    with pytest.raises(PurchaseNotPending):
        token_purchase_mark_paid(purchase=purchase, actor=OPS)

    assert balance(tenant_alpha) == 1_000_000
    assert WalletEntry.objects.filter(kind="purchase").count() == 1


def test_a_cancelled_purchase_cannot_be_paid(tenant_alpha, pack_1m):
    purchase = token_purchase_create(tenant=tenant_alpha, pack=pack_1m, created_by="owner@alpha.test")
    token_purchase_cancel(purchase=purchase, actor="owner@alpha.test")

    with pytest.raises(PurchaseNotPending):
        token_purchase_mark_paid(purchase=purchase, actor=OPS)

    assert not Wallet.objects.filter(tenant=tenant_alpha).exists()


def test_after_a_cancellation_the_pack_can_be_ordered_again(tenant_alpha, pack_1m):
    first = token_purchase_create(tenant=tenant_alpha, pack=pack_1m, created_by="owner@alpha.test")
    token_purchase_cancel(purchase=first, actor="owner@alpha.test")

    again = token_purchase_create(tenant=tenant_alpha, pack=pack_1m, created_by="owner@alpha.test")

    assert again.pk != first.pk and again.status == "pending"


def test_the_database_refuses_a_paid_purchase_without_a_payment_time(tenant_alpha, pack_1m):
    purchase = token_purchase_create(tenant=tenant_alpha, pack=pack_1m, created_by="owner@alpha.test")

    with pytest.raises(IntegrityError), transaction.atomic():
        TokenPurchase.objects.filter(pk=purchase.pk).update(status="paid")


# --- Monthly grants ----------------------------------------------------------------------------------

def test_the_monthly_grant_credits_the_plans_allowance_until_the_month_ends(tenant_alpha):
    entry = wallet_monthly_grant(tenant=tenant_alpha, period_start=date(2026, 11, 1))

    assert (entry.kind, entry.tokens, entry.idempotency_key, entry.expires_at) == (
        "grant", 50_000, "grant:2026-11", DEC)
    assert entry.reason == "Monthly allowance 2026-11 (Free plan)"


def test_the_monthly_grant_is_given_once_per_month(tenant_alpha):
    wallet_monthly_grant(tenant=tenant_alpha, period_start=NOV)
    wallet_monthly_grant(tenant=tenant_alpha, period_start=NOV + timedelta(days=9))

    assert balance(tenant_alpha) == 50_000


def test_a_plan_without_an_allowance_grants_nothing(tenant_alpha):
    Plan.objects.filter(code="free").update(monthly_ai_token_allowance=0)
    lookup_clear()  # update() sends no signal to forget the cached entitlements

    assert wallet_monthly_grant(tenant=tenant_alpha, period_start=NOV) is None
    assert not Wallet.objects.filter(tenant=tenant_alpha).exists()


def test_the_monthly_job_grants_every_active_tenant_once(tenant_alpha, tenant_beta):
    Tenant.objects.filter(pk=tenant_beta.pk).update(status=Tenant.Status.SUSPENDED)

    first = wallet_monthly_grants_run(now=NOV + timedelta(hours=3))
    again = wallet_monthly_grants_run(now=NOV + timedelta(days=1))

    assert (first, again) == (1, 0)
    assert balance(tenant_alpha) == 50_000
    assert not Wallet.objects.filter(tenant=tenant_beta).exists()


def test_the_monthly_task_runs_the_monthly_job(tenant_alpha):
    assert wallet_monthly_grants_task.name == "metering.wallet_monthly_grants"

    with time_machine.travel(NOV + timedelta(minutes=10), tick=False):
        wallet_monthly_grants_task.delay()

    assert WalletEntry.objects.get(wallet__tenant=tenant_alpha).idempotency_key == "grant:2026-11"


# --- Grant expiry ------------------------------------------------------------------------------------

def test_an_unused_grant_expires_whole(tenant_alpha):
    grant(tenant_alpha, 100, at=NOV, expires_at=DEC)

    assert wallet_grants_expire(now=DEC) == 1

    assert expiries(tenant_alpha) == [-100]
    assert balance(tenant_alpha) == 0 == wallet_ledger_sum(tenant=tenant_alpha)


def test_only_the_unused_part_of_a_grant_expires(tenant_alpha):
    grant(tenant_alpha, 100, at=NOV, expires_at=DEC)
    debit(tenant_alpha, 30)

    wallet_grants_expire(now=DEC)

    assert expiries(tenant_alpha) == [-70]
    assert balance(tenant_alpha) == 0


def test_usage_is_taken_from_the_grant_before_purchased_tokens(tenant_alpha):
    credit(tenant_alpha, 50, kind="purchase")
    grant(tenant_alpha, 100, at=NOV, expires_at=DEC)
    debit(tenant_alpha, 30)

    wallet_grants_expire(now=DEC)

    assert expiries(tenant_alpha) == [-70]
    assert balance(tenant_alpha) == 50


def test_a_used_up_grant_expires_with_zero_and_purchased_tokens_stay(tenant_alpha):
    credit(tenant_alpha, 50, kind="purchase")
    grant(tenant_alpha, 100, at=NOV, expires_at=DEC)
    debit(tenant_alpha, 120)

    wallet_grants_expire(now=DEC)

    assert expiries(tenant_alpha) == [0]
    assert balance(tenant_alpha) == 30


def test_a_grant_before_its_expiry_is_left_alone(tenant_alpha):
    grant(tenant_alpha, 100, at=NOV, expires_at=DEC)

    assert wallet_grants_expire(now=DEC - timedelta(seconds=1)) == 0
    assert balance(tenant_alpha) == 100


def test_expiring_twice_expires_once(tenant_alpha):
    grant(tenant_alpha, 100, at=NOV, expires_at=DEC)
    wallet_grants_expire(now=DEC)

    assert wallet_grants_expire(now=DEC + timedelta(hours=1)) == 0
    assert expiries(tenant_alpha) == [-100]


def test_a_grant_expiring_at_another_time_than_the_open_allowance_is_refused(tenant_alpha):
    grant(tenant_alpha, 100, at=NOV, expires_at=DEC)

    with pytest.raises(ValueError):
        grant(tenant_alpha, 100, at=NOV, expires_at=JAN)
    assert balance(tenant_alpha) == 100


def test_a_grant_with_the_open_allowances_expiry_tops_it_up(tenant_alpha):
    first = grant(tenant_alpha, 100, at=NOV, expires_at=DEC)
    debit(tenant_alpha, 30)
    top_up = grant(tenant_alpha, 50, at=NOV + timedelta(days=9), expires_at=DEC)
    debit(tenant_alpha, 100)

    wallet_grants_expire(now=DEC)

    assert top_up.grant_id == first.pk
    assert expiries(tenant_alpha) == [-20]
    assert balance(tenant_alpha) == 0


def test_a_negative_adjustment_is_taken_from_the_grant_first(tenant_alpha):
    credit(tenant_alpha, 50, kind="purchase")
    grant(tenant_alpha, 100, at=NOV, expires_at=DEC)
    credit(tenant_alpha, -40, kind="adjustment", reason="Correction")

    wallet_grants_expire(now=DEC)

    assert expiries(tenant_alpha) == [-60]
    assert balance(tenant_alpha) == 50


def test_month_after_month_only_each_months_unused_allowance_expires(tenant_alpha):
    grant(tenant_alpha, 100, at=NOV, expires_at=DEC)
    debit(tenant_alpha, 40)
    credit(tenant_alpha, 500, kind="purchase")
    wallet_grants_expire(now=DEC)
    grant(tenant_alpha, 100, at=DEC, expires_at=JAN)
    debit(tenant_alpha, 130)

    wallet_grants_expire(now=JAN)

    assert expiries(tenant_alpha) == [-60, 0]
    assert balance(tenant_alpha) == 470 == wallet_ledger_sum(tenant=tenant_alpha)


def test_a_new_months_grant_given_before_the_old_one_expired_is_kept_apart(tenant_alpha):
    grant(tenant_alpha, 100, at=NOV, expires_at=DEC)
    debit(tenant_alpha, 10)
    grant(tenant_alpha, 100, at=DEC, expires_at=JAN)
    wallet_grants_expire(now=DEC)
    debit(tenant_alpha, 30)

    wallet_grants_expire(now=JAN)

    assert expiries(tenant_alpha) == [-90, -70]
    assert balance(tenant_alpha) == 0


def test_grants_of_every_wallet_expire(tenant_alpha, tenant_beta):
    grant(tenant_alpha, 100, at=NOV, expires_at=DEC)
    grant(tenant_beta, 70, at=NOV, expires_at=DEC)

    assert wallet_grants_expire_task.name == "metering.wallet_grants_expire"

    with time_machine.travel(DEC + timedelta(minutes=5), tick=False):
        assert wallet_grants_expire_task.delay().get() == 2

    assert (expiries(tenant_alpha), expiries(tenant_beta)) == ([-100], [-70])


def test_the_expiry_entry_names_the_grant(tenant_alpha):
    granted = wallet_monthly_grant(tenant=tenant_alpha, period_start=NOV)

    wallet_grants_expire(now=DEC)

    expiry = WalletEntry.objects.get(kind="expiry")
    assert expiry.idempotency_key == f"expiry:{granted.pk}"
    assert expiry.reason == f"Unused part of grant #{granted.pk} expired (Monthly allowance 2026-11 (Free plan))"


# --- Usage per feature -------------------------------------------------------------------------------

def test_usage_per_feature_sums_the_periods_debits_only(tenant_alpha):
    credit(tenant_alpha, 10_000)
    debit(tenant_alpha, 100, feature="ai_api", now=NOV + timedelta(days=2))
    debit(tenant_alpha, 250, feature="ai_api", now=NOV + timedelta(days=20))
    debit(tenant_alpha, 40, feature="coach", now=NOV + timedelta(days=3))
    debit(tenant_alpha, 999, feature="content", now=DEC)
    credit(tenant_alpha, 5, kind="adjustment", reason="Goodwill", now=NOV + timedelta(days=4))

    usage = wallet_usage_by_feature(tenant=tenant_alpha, start=NOV, end=DEC)

    assert usage == {"ai_api": 350, "coach": 40, "content": 0}


def test_usage_per_feature_is_net_of_the_refunds_of_its_debits(tenant_alpha):
    credit(tenant_alpha, 10_000)
    debit(tenant_alpha, 1_000, feature="ai_api", key="reserve-1", now=NOV + timedelta(days=2))
    debit(tenant_alpha, 500, feature="coach", key="reserve-2", now=NOV + timedelta(days=30) - timedelta(seconds=1))
    refund(tenant_alpha, "reserve-1", 900, now=NOV + timedelta(days=2))
    refund(tenant_alpha, "reserve-2", 100, now=DEC + timedelta(seconds=1))

    usage = wallet_usage_by_feature(tenant=tenant_alpha, start=NOV, end=DEC)

    assert usage == {"ai_api": 100, "coach": 400, "content": 0}


def test_usage_owed_counts_as_usage(tenant_alpha):
    credit(tenant_alpha, 10)
    wallet_debit_or_owe(tenant=tenant_alpha, tokens=25, feature="ai_api", reason="over", idempotency_key="over",
                        now=NOV + timedelta(days=1))

    assert wallet_usage_by_feature(tenant=tenant_alpha, start=NOV, end=DEC)["ai_api"] == 25


def test_usage_per_feature_is_per_tenant(tenant_alpha, tenant_beta):
    credit(tenant_beta, 100)
    debit(tenant_beta, 60, now=NOV + timedelta(days=1))

    assert wallet_usage_by_feature(tenant=tenant_alpha, start=NOV, end=DEC) == {"ai_api": 0, "coach": 0, "content": 0}


# --- Refunds go back to the grant they came from --------------------------------------------------------

def test_refunded_reservation_does_not_outlive_its_grant(tenant_alpha):
    grant(tenant_alpha, 1_000, at=NOV, expires_at=DEC)
    debit(tenant_alpha, 800, key="ai-reserve:1")
    refund(tenant_alpha, "ai-reserve:1", 700)

    wallet_grants_expire(now=DEC)

    assert expiries(tenant_alpha) == [-900]
    assert balance(tenant_alpha) == 0 == wallet_ledger_sum(tenant=tenant_alpha)


def test_purchase_between_reserve_and_refund_never_expires(tenant_alpha):
    grant(tenant_alpha, 1_000, at=NOV, expires_at=DEC)
    debit(tenant_alpha, 800, key="ai-reserve:1")
    credit(tenant_alpha, 500, kind="purchase")
    refund(tenant_alpha, "ai-reserve:1", 700)

    wallet_grants_expire(now=DEC)

    assert expiries(tenant_alpha) == [-900]
    assert balance(tenant_alpha) == 500 == wallet_ledger_sum(tenant=tenant_alpha)


def test_a_refund_names_its_debit_and_gives_back_to_its_grant(tenant_alpha):
    granted = grant(tenant_alpha, 1_000, at=NOV, expires_at=DEC)
    reserved = debit(tenant_alpha, 800, key="ai-reserve:1")

    entry = refund(tenant_alpha, "ai-reserve:1", 700)

    assert (reserved.grant_id, reserved.grant_tokens) == (granted.pk, -800)
    assert (entry.kind, entry.refund_of_id, entry.grant_id, entry.grant_tokens) == ("refund", reserved.pk,
                                                                                    granted.pk, 700)
    assert Wallet.objects.get(tenant=tenant_alpha).allowance == 900


def test_a_refund_gives_back_to_the_tokens_that_never_expire_first(tenant_alpha):
    credit(tenant_alpha, 100, kind="purchase")
    grant(tenant_alpha, 100, at=NOV, expires_at=DEC)
    debit(tenant_alpha, 150, key="ai-reserve:1")  # 100 from the allowance, 50 purchased
    refund(tenant_alpha, "ai-reserve:1", 60)  # 50 purchased back, then 10 allowance

    wallet_grants_expire(now=DEC)

    assert expiries(tenant_alpha) == [-10]
    assert balance(tenant_alpha) == 100


def test_a_refund_after_its_grant_expired_expires_at_once(tenant_alpha):
    credit(tenant_alpha, 300, kind="purchase")
    grant(tenant_alpha, 1_000, at=NOV, expires_at=DEC)
    debit(tenant_alpha, 800, key="ai-reserve:1")
    wallet_grants_expire(now=DEC)

    entry = refund(tenant_alpha, "ai-reserve:1", 700)

    assert expiries(tenant_alpha) == [-200, -700]
    assert WalletEntry.objects.get(kind="expiry", idempotency_key=f"expiry:refund:{entry.pk}").tokens == -700
    assert balance(tenant_alpha) == 300 == wallet_ledger_sum(tenant=tenant_alpha)


def test_a_refund_after_the_next_months_grant_does_not_join_its_allowance(tenant_alpha):
    grant(tenant_alpha, 1_000, at=NOV, expires_at=DEC)
    debit(tenant_alpha, 800, key="ai-reserve:1")
    grant(tenant_alpha, 1_000, at=DEC, expires_at=JAN)  # closes November's allowance first

    refund(tenant_alpha, "ai-reserve:1", 700)
    wallet_grants_expire(now=JAN)

    assert expiries(tenant_alpha) == [-200, -700, -1_000]
    assert balance(tenant_alpha) == 0


def test_refunds_of_a_debit_cannot_give_back_more_than_it_took(tenant_alpha):
    credit(tenant_alpha, 1_000)
    debit(tenant_alpha, 100, key="ai-reserve:1")
    refund(tenant_alpha, "ai-reserve:1", 60)

    with pytest.raises(WalletError):
        refund(tenant_alpha, "ai-reserve:1", 41)
    assert balance(tenant_alpha) == 960


def test_a_retried_refund_gives_back_once(tenant_alpha):
    credit(tenant_alpha, 1_000)
    debit(tenant_alpha, 100, key="ai-reserve:1")
    first = refund(tenant_alpha, "ai-reserve:1", 60, key="ai-settle:1")

    assert refund(tenant_alpha, "ai-reserve:1", 60, key="ai-settle:1").pk == first.pk
    assert balance(tenant_alpha) == 960


def test_a_refund_of_an_unknown_debit_is_refused(tenant_alpha):
    credit(tenant_alpha, 1_000)

    with pytest.raises(WalletError):
        refund(tenant_alpha, "ai-reserve:never", 10)
    assert balance(tenant_alpha) == 1_000


def test_a_refund_key_reused_for_another_debit_is_refused(tenant_alpha):
    credit(tenant_alpha, 1_000)
    debit(tenant_alpha, 100, key="ai-reserve:1")
    debit(tenant_alpha, 100, key="ai-reserve:2")
    refund(tenant_alpha, "ai-reserve:1", 60, key="settle")

    with pytest.raises(IdempotencyKeyReused):
        refund(tenant_alpha, "ai-reserve:2", 60, key="settle")


class ReferenceWallet:
    """The ledger's rules by brute force, independent of the services' bookkeeping: every debit keeps how it was
    split, every grant its own remainder, and expiring walks them."""

    def __init__(self) -> None:
        self.rest = 0  # tokens that never expire
        self.grants: dict[str, int] = {}  # open grant -> what is left of it (at most one open)
        self.debits: dict[str, dict] = {}
        self.owed = 0
        self.expired = 0

    @property
    def allowance(self) -> int:
        return sum(self.grants.values())

    @property
    def balance(self) -> int:
        return self.rest + self.allowance

    def take(self, tokens: int) -> tuple[str | None, int]:
        open_grant = next(iter(self.grants), None)
        from_grant = min(self.allowance, tokens)
        if open_grant is not None:
            self.grants[open_grant] -= from_grant
        self.rest -= tokens - from_grant
        return (open_grant if from_grant else None), from_grant

    def repay(self, kept: int) -> None:
        repaid = min(self.owed, kept)
        self.owed -= repaid
        self.take(repaid)

    def debit(self, key: str, tokens: int) -> None:
        granted_from, from_grant = self.take(tokens)
        self.debits[key] = {"grant": granted_from, "grant_part": from_grant, "rest_part": tokens - from_grant,
                            "refunded": 0, "refunded_rest": 0}

    def refund(self, key: str, tokens: int) -> None:
        split = self.debits[key]
        to_rest = min(tokens, split["rest_part"] - split["refunded_rest"])
        to_grant = tokens - to_rest
        split["refunded"] += tokens
        split["refunded_rest"] += to_rest
        self.rest += to_rest
        if to_grant and split["grant"] in self.grants:
            self.grants[split["grant"]] += to_grant
            self.repay(tokens)
        else:
            self.expired += to_grant
            self.repay(to_rest)

    def owe(self, tokens: int) -> None:
        taken = min(self.balance, tokens)
        self.take(taken)
        self.owed += tokens - taken

    def purchase(self, tokens: int) -> None:
        self.rest += tokens
        self.repay(tokens)

    def month_turn(self, key: str, tokens: int) -> None:
        self.expired += self.allowance
        self.grants = {key: tokens}
        self.repay(tokens)


@pytest.mark.parametrize("seed", range(8))
def test_random_ledgers_match_a_brute_force_replay(tenant_alpha, seed):
    import random

    rng = random.Random(seed)
    reference = ReferenceWallet()
    months = [datetime(2027, month, 1, tzinfo=timezone.utc) for month in range(1, 13)]
    month = 0
    grant(tenant_alpha, 1_000, at=months[0], expires_at=months[1])
    reference.month_turn("m0", 1_000)
    for step in range(70):
        action = rng.choice(["reserve", "reserve", "refund", "refund", "purchase", "owe", "month", "adjust"])
        if action == "reserve":
            tokens = rng.randint(1, 600)
            if tokens > reference.balance:
                with pytest.raises(InsufficientBalance):
                    debit(tenant_alpha, tokens, key=f"d{step}")
                continue
            debit(tenant_alpha, tokens, key=f"d{step}")
            reference.debit(f"d{step}", tokens)
        elif action == "refund":
            open_debits = [key for key, split in reference.debits.items()
                           if split["refunded"] < split["grant_part"] + split["rest_part"]]
            if not open_debits:
                continue
            key = rng.choice(open_debits)
            split = reference.debits[key]
            tokens = rng.randint(1, split["grant_part"] + split["rest_part"] - split["refunded"])
            refund(tenant_alpha, key, tokens)
            reference.refund(key, tokens)
        elif action == "purchase":
            tokens = rng.randint(1, 400)
            credit(tenant_alpha, tokens, kind="purchase")
            reference.purchase(tokens)
        elif action == "owe":
            tokens = rng.randint(1, 300)
            wallet_debit_or_owe(tenant=tenant_alpha, tokens=tokens, feature="ai_api", reason="over",
                                idempotency_key=f"o{step}")
            reference.owe(tokens)
        elif action == "adjust" and reference.balance:
            tokens = rng.randint(1, reference.balance)
            credit(tenant_alpha, -tokens, kind="adjustment", reason="Correction")
            reference.take(tokens)
        elif action == "month" and month + 2 < len(months):
            month += 1
            if rng.random() < 0.5:  # the expiry job ran before the new grant; else the grant closes it
                wallet_grants_expire(now=months[month])
            grant(tenant_alpha, 1_000, at=months[month], expires_at=months[month + 1])
            reference.month_turn(f"m{month}", 1_000)
        wallet = Wallet.objects.get(tenant=tenant_alpha)
        assert (wallet.balance, wallet.allowance, wallet.owed) == (
            reference.balance, reference.allowance, reference.owed), f"step {step}: {action}"

    wallet_grants_expire(now=months[month + 1])
    reference.expired += reference.allowance
    assert balance(tenant_alpha) == reference.rest == wallet_ledger_sum(tenant=tenant_alpha)
    assert -sum(expiries(tenant_alpha)) == reference.expired
    assert owed(tenant_alpha) == reference.owed == sum(
        WalletEntry.objects.filter(wallet__tenant=tenant_alpha).values_list("owed_tokens", flat=True))


# --- Usage the balance cannot cover is owed ---------------------------------------------------------------

def test_usage_over_reservation_is_owed_not_written_off(tenant_alpha):
    import uuid

    from metering.gateway.client import AiUsage
    from metering.gateway.services import ai_reserve, ai_settle
    from metering.models import ModelPrice

    credit(tenant_alpha, 150)
    request_id = uuid.uuid4()
    reservation = ai_reserve(tenant=tenant_alpha, price=ModelPrice.objects.get(model="claude-sonnet-4-6"),
                             tokens=100, request_id=request_id)

    ai_settle(reservation=reservation, usage=AiUsage(input_tokens=120, output_tokens=180))

    over = WalletEntry.objects.get(idempotency_key=f"ai-settle:{request_id}")
    assert (over.kind, over.tokens, over.owed_tokens) == ("usage_debit", -50, 150)
    assert (balance(tenant_alpha), owed(tenant_alpha)) == (0, 150)
    start, end = month_bounds(datetime.now(timezone.utc))
    assert wallet_usage_by_feature(tenant=tenant_alpha, start=start, end=end)["ai_api"] == 300


def test_unused_reservation_is_refunded_to_its_debit(tenant_alpha):
    import uuid

    from metering.gateway.client import AiUsage
    from metering.gateway.services import ai_reserve, ai_settle
    from metering.models import ModelPrice

    credit(tenant_alpha, 1_000)
    request_id = uuid.uuid4()
    reservation = ai_reserve(tenant=tenant_alpha, price=ModelPrice.objects.get(model="claude-sonnet-4-6"),
                             tokens=500, request_id=request_id)

    ai_settle(reservation=reservation, usage=AiUsage(input_tokens=20, output_tokens=30))

    refunded = WalletEntry.objects.get(idempotency_key=f"ai-settle:{request_id}")
    assert (refunded.kind, refunded.tokens) == ("refund", 450)
    assert refunded.refund_of.idempotency_key == f"ai-reserve:{request_id}"
    assert balance(tenant_alpha) == 950


def test_the_next_credit_repays_what_is_owed_first(tenant_alpha):
    credit(tenant_alpha, 50)
    wallet_debit_or_owe(tenant=tenant_alpha, tokens=200, feature="ai_api", reason="over", idempotency_key="over")

    purchase = credit(tenant_alpha, 1_000, kind="purchase")

    repayment = WalletEntry.objects.get(kind="repayment")
    assert (repayment.tokens, repayment.owed_tokens, repayment.idempotency_key) == (-150, -150,
                                                                                    f"repayment:{purchase.pk}")
    assert (balance(tenant_alpha), owed(tenant_alpha)) == (850, 0)
    assert balance(tenant_alpha) == wallet_ledger_sum(tenant=tenant_alpha)


def test_a_credit_smaller_than_the_debt_all_goes_to_it(tenant_alpha):
    wallet_debit_or_owe(tenant=tenant_alpha, tokens=300, feature="ai_api", reason="over", idempotency_key="over")

    credit(tenant_alpha, 100, kind="purchase")

    assert (balance(tenant_alpha), owed(tenant_alpha)) == (0, 200)


def test_a_monthly_grant_repays_the_debt_from_the_allowance(tenant_alpha):
    credit(tenant_alpha, 500, kind="purchase")
    debit(tenant_alpha, 500)
    wallet_debit_or_owe(tenant=tenant_alpha, tokens=40, feature="ai_api", reason="over", idempotency_key="over")

    grant(tenant_alpha, 100, at=NOV, expires_at=DEC)
    wallet_grants_expire(now=DEC)

    assert expiries(tenant_alpha) == [-60]
    assert (balance(tenant_alpha), owed(tenant_alpha)) == (0, 0)


def test_nothing_can_be_debited_while_tokens_are_owed(tenant_alpha):
    wallet_debit_or_owe(tenant=tenant_alpha, tokens=10, feature="ai_api", reason="over", idempotency_key="over")

    with pytest.raises(InsufficientBalance):
        debit(tenant_alpha, 1)


def test_a_retried_owed_debit_charges_once(tenant_alpha):
    credit(tenant_alpha, 50)
    first = wallet_debit_or_owe(tenant=tenant_alpha, tokens=80, feature="ai_api", reason="over",
                                idempotency_key="over")

    again = wallet_debit_or_owe(tenant=tenant_alpha, tokens=80, feature="ai_api", reason="over",
                                idempotency_key="over")

    assert again.pk == first.pk
    assert (balance(tenant_alpha), owed(tenant_alpha)) == (0, 30)


def test_the_database_refuses_a_debt_beside_a_balance(tenant_alpha):
    credit(tenant_alpha, 10)

    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.filter(tenant=tenant_alpha).update(owed=5)


# --- The month's allowance after a plan change --------------------------------------------------------------

def test_a_larger_plan_tops_the_months_allowance_up_once(tenant_alpha):
    from billing.services import tenant_plan_assign

    wallet_monthly_grant(tenant=tenant_alpha, period_start=NOV)
    tenant_plan_assign(tenant=tenant_alpha, plan=Plan.objects.get(code="pro"))

    top_up = wallet_monthly_grant(tenant=tenant_alpha, period_start=NOV)

    assert (top_up.tokens, top_up.idempotency_key, top_up.expires_at) == (1_950_000, "grant:2026-11:pro", DEC)
    assert wallet_monthly_grant(tenant=tenant_alpha, period_start=NOV) is None
    assert balance(tenant_alpha) == 2_000_000


def test_a_smaller_plan_grants_nothing_more_in_the_month(tenant_alpha):
    from billing.services import tenant_plan_assign

    tenant_plan_assign(tenant=tenant_alpha, plan=Plan.objects.get(code="pro"))
    wallet_monthly_grant(tenant=tenant_alpha, period_start=NOV)
    tenant_plan_assign(tenant=tenant_alpha, plan=Plan.objects.get(code="free"))

    assert wallet_monthly_grant(tenant=tenant_alpha, period_start=NOV) is None
    assert balance(tenant_alpha) == 2_000_000


def test_owed_usage_that_crosses_the_threshold_emails_the_owners(tenant_alpha, django_capture_on_commit_callbacks):
    credit(tenant_alpha, 100)
    wallet_threshold_set(tenant=tenant_alpha, threshold=50)

    with django_capture_on_commit_callbacks(execute=True):
        wallet_debit_or_owe(tenant=tenant_alpha, tokens=130, feature="ai_api", reason="over", idempotency_key="over")

    [message] = mail.outbox
    assert "0 tokens" in message.body
