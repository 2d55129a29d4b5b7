from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest

from billing.models import Plan
from billing.selectors import entitlements_for
from billing.services import tenant_plan_assign
from config import lookup_cache, redis_guard
from config.lookup_cache import lookup_cached, lookup_clear, lookup_forget, lookup_key, lookup_request
from config.redis_guard import RedisSkipped, redis_available, redis_connection, redis_failed
from metering.gateway.services import model_names_active, model_price_active_get
from metering.models import ModelPrice
from tests.support.factories import PlanQuotaFactory

# Forgetting asks the connection whether a transaction is open: those tests need `db`.


@pytest.fixture
def key():
    lookup_clear()
    yield lookup_key("test", "thing")
    lookup_clear()


def loader(value, calls):
    def load():
        calls.append(1)
        return value
    return load


def another_process_changes_a_row() -> None:
    """What lookup_forget() in another process leaves behind here: a new generation in Redis."""
    redis_connection().incr(lookup_cache._generation_key())


@contextmanager
def in_another_process() -> Iterator[None]:
    """A change made inside reaches this process as another process's change would: through the generation
    alone, this process keeping the entries the change's signal dropped."""
    kept = dict(lookup_cache._entries)
    yield
    lookup_cache._entries.clear()
    lookup_cache._entries.update(kept)


def test_a_cached_lookup_loads_once(key):
    calls = []

    assert lookup_cached(key, loader({"v": 1}, calls)) == {"v": 1}
    assert lookup_cached(key, loader({"v": 2}, calls)) == {"v": 1}
    assert len(calls) == 1


def test_each_lookup_gets_its_own_copy(key):
    first = lookup_cached(key, loader({"v": 1}, []))
    first["v"] = "changed by one request"

    assert lookup_cached(key, loader({"v": 2}, [])) == {"v": 1}


def test_nothing_found_is_not_cached(key):
    calls = []

    assert lookup_cached(key, loader(None, calls)) is None
    assert lookup_cached(key, loader("now there", calls)) == "now there"
    assert len(calls) == 2


def test_a_forgotten_lookup_reads_the_database_again(db, key):
    lookup_cached(key, loader("old", []))

    lookup_forget(key)

    assert lookup_cached(key, loader("new", [])) == "new"


def test_a_change_made_in_another_process_is_seen_on_the_next_lookup(key):
    lookup_cached(key, loader("old", []))

    another_process_changes_a_row()

    assert lookup_cached(key, loader("new", [])) == "new"


def test_a_reader_that_loaded_the_old_row_during_the_change_does_not_keep_it(db, key):
    # The reader loads the old row; the writer forgets (in another process) before the reader stores it.
    def stale_load():
        another_process_changes_a_row()
        return "old"

    assert lookup_cached(key, stale_load) == "old"
    assert lookup_cached(key, loader("new", [])) == "new"


def test_forgetting_inside_a_transaction_forgets_again_at_commit(key, committed_db):
    from django.db import transaction

    with transaction.atomic():
        lookup_forget(key)
        # Between the change and the commit a reader still sees the old row and caches it...
        lookup_cached(key, loader("old", []))

    # ...and the commit makes it stale.
    assert lookup_cached(key, loader("new", [])) == "new"


def test_one_request_reads_the_generation_once(key):
    lookup_cached(key, loader("row", []))
    redis = redis_connection()
    reads = []
    real_get = redis.get

    def counting_get(name):
        reads.append(name)
        return real_get(name)

    redis.get = counting_get
    try:
        with lookup_request():
            lookup_cached(key, loader("row", []))
            lookup_cached(lookup_key("test", "other"), loader("other", []))
            lookup_cached(lookup_key("test", "other"), loader("other", []))
    finally:
        del redis.get

    assert len(reads) == 1


def test_an_entry_is_reloaded_after_its_maximum_age_whatever_the_generation(key, monkeypatch):
    lookup_cached(key, loader("old", []))
    later = lookup_cache.time.monotonic() + lookup_cache.ENTRY_MAX_AGE_S + 1
    monkeypatch.setattr(lookup_cache.time, "monotonic", lambda: later)

    assert lookup_cached(key, loader("new", [])) == "new"


def test_an_emptied_redis_starts_a_generation_no_entry_was_cached_under(key):
    lookup_cached(key, loader("old", []))

    redis_connection().delete(lookup_cache._generation_key())

    assert lookup_cached(key, loader("new", [])) == "new"


def test_with_redis_unreachable_lookups_read_the_database(db, key, monkeypatch):
    lookup_cached(key, loader("cached before the outage", []))

    def unreachable():
        raise ConnectionError("redis down")

    monkeypatch.setattr(lookup_cache, "redis_connection", unreachable)
    calls = []

    assert lookup_cached(key, loader("row", calls)) == "row"
    assert lookup_cached(key, loader("row", calls)) == "row"
    assert len(calls) == 2
    lookup_forget(key)  # and forgetting does not fail


def test_with_redis_unreachable_a_request_tries_it_once(key, monkeypatch):
    attempts = []

    def unreachable():
        attempts.append(1)
        raise ConnectionError("redis down")

    monkeypatch.setattr(lookup_cache, "redis_connection", unreachable)

    with lookup_request():
        assert lookup_cached(key, loader("row", [])) == "row"
        assert lookup_cached(lookup_key("test", "other"), loader("other", [])) == "other"

    assert len(attempts) == 1


def test_with_redis_unreachable_a_request_reads_each_row_once(key, monkeypatch):
    def unreachable():
        raise ConnectionError("redis down")

    monkeypatch.setattr(lookup_cache, "redis_connection", unreachable)
    calls = []

    with lookup_request():
        assert lookup_cached(key, loader("row", calls)) == "row"
        assert lookup_cached(key, loader("row", calls)) == "row"

    assert len(calls) == 1


def test_with_redis_unreachable_the_next_request_reads_the_row_again(key, monkeypatch):
    def unreachable():
        raise ConnectionError("redis down")

    monkeypatch.setattr(lookup_cache, "redis_connection", unreachable)
    with lookup_request():
        lookup_cached(key, loader("old", []))

    with lookup_request():
        assert lookup_cached(key, loader("new", [])) == "new"


def test_with_redis_unreachable_a_request_that_changed_a_row_reads_it_again(db, key, monkeypatch):
    def unreachable():
        raise ConnectionError("redis down")

    monkeypatch.setattr(lookup_cache, "redis_connection", unreachable)
    with lookup_request():
        lookup_cached(key, loader("old", []))

        lookup_forget(key)

        assert lookup_cached(key, loader("new", [])) == "new"


def test_with_redis_unreachable_a_lookup_that_allows_lag_is_served_from_this_process(key, monkeypatch):
    def unreachable():
        raise ConnectionError("redis down")

    monkeypatch.setattr(lookup_cache, "redis_connection", unreachable)
    calls = []
    with lookup_request():
        assert lookup_cached(key, loader("row", calls), stale_ok_s=10) == "row"

    with lookup_request():
        assert lookup_cached(key, loader("row", calls), stale_ok_s=10) == "row"

    assert len(calls) == 1


def test_with_redis_unreachable_a_lagging_value_is_reloaded_after_the_lag_allowed(key, monkeypatch):
    def unreachable():
        raise ConnectionError("redis down")

    monkeypatch.setattr(lookup_cache, "redis_connection", unreachable)
    clock = [1000.0]
    monkeypatch.setattr(lookup_cache.time, "monotonic", lambda: clock[0])
    lookup_cached(key, loader("old", []), stale_ok_s=10)

    clock[0] += 10

    assert lookup_cached(key, loader("new", []), stale_ok_s=10) == "new"


def test_a_value_loaded_during_the_outage_is_reloaded_once_redis_answers(key, monkeypatch):
    def unreachable():
        raise ConnectionError("redis down")

    with monkeypatch.context() as outage:
        outage.setattr(lookup_cache, "redis_connection", unreachable)
        lookup_cached(key, loader("during the outage", []), stale_ok_s=10)

    assert lookup_cached(key, loader("current", []), stale_ok_s=10) == "current"


def test_with_redis_unreachable_a_request_that_changed_a_lagging_row_reads_it_again(db, key, monkeypatch):
    def unreachable():
        raise ConnectionError("redis down")

    monkeypatch.setattr(lookup_cache, "redis_connection", unreachable)
    with lookup_request():
        lookup_cached(key, loader("old", []), stale_ok_s=10)

        lookup_forget(key)

        assert lookup_cached(key, loader("new", []), stale_ok_s=10) == "new"


def test_a_change_is_published_even_while_the_process_leaves_redis_alone_after_a_blip(db, key):
    # Otherwise a key revoked just after a blip would stay cached in every other process for a minute.
    lookup_cached(key, loader("row", []))
    redis = redis_connection()
    before = int(redis.get(lookup_cache._generation_key()))
    redis_failed(ConnectionError("a blip"))
    assert not redis_available()

    lookup_forget(key)

    redis_guard.redis_guard_reset()
    assert int(redis.get(lookup_cache._generation_key())) == before + 1


def test_a_request_skips_redis_once_a_command_of_it_failed(key):
    with lookup_request():
        redis_failed(ConnectionError("timed out"))
        redis_guard.redis_guard_reset()  # whatever the circuit says

        assert not redis_available()
        with pytest.raises(RedisSkipped):
            redis_connection().get(lookup_cache._generation_key())

    assert redis_available()  # the next request tries again


def test_a_request_that_changed_a_row_reads_the_database_for_the_rest_of_it(db, key):
    # Its read of the generation predates the change: another thread may have cached the old row under it.
    lookup_cached(key, loader("old", []))

    with lookup_request():
        lookup_forget()

        assert lookup_cached(key, loader("new", [])) == "new"


# --- Bounded size -----------------------------------------------------------------------------------------

def fill(count: int) -> list[str]:
    keys = [lookup_key("test", "fill", n) for n in range(count)]
    for n, fill_key in enumerate(keys):
        lookup_cached(fill_key, loader(n, []))
    return keys


def test_the_cache_never_holds_more_than_max_entries(monkeypatch):
    monkeypatch.setattr(lookup_cache, "MAX_ENTRIES", 3)

    fill(10)

    assert len(lookup_cache._entries) == 3


def test_a_full_cache_drops_the_entry_loaded_longest_ago(monkeypatch):
    monkeypatch.setattr(lookup_cache, "MAX_ENTRIES", 3)

    oldest, second, third, newest = fill(4)

    assert oldest not in lookup_cache._entries
    assert [second, third, newest] == list(lookup_cache._entries)


def test_a_reloaded_entry_counts_as_the_newest(monkeypatch):
    monkeypatch.setattr(lookup_cache, "MAX_ENTRIES", 3)
    first, second, third = fill(3)
    another_process_changes_a_row()
    lookup_cached(first, loader("reloaded", []))

    fill_key = lookup_key("test", "one more")
    lookup_cached(fill_key, loader("one more", []))

    assert list(lookup_cache._entries) == [third, first, fill_key]


# --- What the cache serves ----------------------------------------------------------------------------------

def test_entitlements_are_served_from_the_cache(tenant_alpha, django_assert_num_queries):
    entitlements_for(tenant=tenant_alpha)

    with django_assert_num_queries(0):
        assert entitlements_for(tenant=tenant_alpha).plan_code == "free"


def test_a_plan_edited_in_another_process_reaches_this_ones_entitlements(tenant_alpha):
    entitlements_for(tenant=tenant_alpha)

    with in_another_process():
        free = Plan.objects.get(code="free")
        free.api_requests_per_minute_per_key = 7
        free.save()

    assert entitlements_for(tenant=tenant_alpha).api_requests_per_minute_per_key == 7


def test_a_quota_added_in_another_process_reaches_this_ones_entitlements(tenant_alpha):
    entitlements_for(tenant=tenant_alpha)

    with in_another_process():
        PlanQuotaFactory(plan=Plan.objects.get(code="free"), meter_code="compute_seconds",
                         monthly_limit=Decimal("9"))

    assert entitlements_for(tenant=tenant_alpha).quota_for("compute_seconds").monthly_limit == Decimal("9")


def test_a_plan_assigned_in_another_process_reaches_this_ones_entitlements(tenant_alpha):
    entitlements_for(tenant=tenant_alpha)

    with in_another_process():
        tenant_plan_assign(tenant=tenant_alpha, plan=Plan.objects.get(code="pro"))

    assert entitlements_for(tenant=tenant_alpha).plan_code == "pro"


def test_model_prices_are_served_from_the_cache(db, django_assert_num_queries):
    model_names_active()

    with django_assert_num_queries(0):
        assert model_price_active_get(model="claude-sonnet-4-6").model == "claude-sonnet-4-6"


def test_a_price_changed_in_another_process_reaches_this_ones_gateway(db):
    model_names_active()

    with in_another_process():
        price = ModelPrice.objects.get(model="claude-sonnet-4-6")
        price.active = False
        price.save()

    assert model_price_active_get(model="claude-sonnet-4-6") is None
