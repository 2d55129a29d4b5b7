import pytest
from django_redis import get_redis_connection

from config import lookup_cache, redis_guard
from config.lookup_cache import lookup_cached, lookup_clear, lookup_forget, lookup_key, lookup_request
from config.redis_guard import RedisSkipped, redis_available, redis_failed

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
    get_redis_connection("default").incr(lookup_cache._generation_key())


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
    redis = get_redis_connection("default")
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

    get_redis_connection("default").delete(lookup_cache._generation_key())

    assert lookup_cached(key, loader("new", [])) == "new"


def test_with_redis_unreachable_lookups_read_the_database(db, key, monkeypatch):
    lookup_cached(key, loader("cached before the outage", []))

    def unreachable(alias):
        raise ConnectionError("redis down")

    monkeypatch.setattr(lookup_cache, "get_redis_connection", unreachable)
    calls = []

    assert lookup_cached(key, loader("row", calls)) == "row"
    assert lookup_cached(key, loader("row", calls)) == "row"
    assert len(calls) == 2
    lookup_forget(key)  # and forgetting does not fail


def test_with_redis_unreachable_a_request_tries_it_once(key, monkeypatch):
    attempts = []

    def unreachable(alias):
        attempts.append(alias)
        raise ConnectionError("redis down")

    monkeypatch.setattr(lookup_cache, "get_redis_connection", unreachable)

    with lookup_request():
        assert lookup_cached(key, loader("row", [])) == "row"
        assert lookup_cached(lookup_key("test", "other"), loader("other", [])) == "other"

    assert len(attempts) == 1


def test_a_change_is_published_even_while_the_process_leaves_redis_alone_after_a_blip(db, key):
    # Otherwise a key revoked just after a blip would stay cached in every other process for a minute.
    lookup_cached(key, loader("row", []))
    redis = get_redis_connection("default")
    before = int(redis.get(lookup_cache._generation_key()))
    redis_failed(ConnectionError("a blip"))
    assert not redis_available()

    lookup_forget(key)

    redis_guard.redis_guard_reset()
    assert int(redis.get(lookup_cache._generation_key())) == before + 1


def test_a_request_skips_redis_once_a_command_of_it_failed(key, monkeypatch):
    with lookup_request():
        redis_failed(ConnectionError("timed out"))
        monkeypatch.setattr(redis_guard, "_circuit_open_until", [0.0])  # whatever the circuit says

        assert not redis_available()
        with pytest.raises(RedisSkipped):
            get_redis_connection("default").get(lookup_cache._generation_key())

    assert redis_available()  # the next request tries again
