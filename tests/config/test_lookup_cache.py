import pytest
from django.db import transaction

from config import lookup_cache
from config.lookup_cache import TOMBSTONE, lookup_cached, lookup_clear, lookup_forget, lookup_key



@pytest.fixture
def key():
    yield lookup_key("test", "thing")
    lookup_clear()


# Tests that forget need `db`: forgetting asks the connection whether a transaction is open.


def loader(value, calls):
    def load():
        calls.append(1)
        return value
    return load


def test_a_cached_lookup_loads_once(key):
    calls = []

    assert lookup_cached(key, loader({"v": 1}, calls)) == {"v": 1}
    assert lookup_cached(key, loader({"v": 2}, calls)) == {"v": 1}
    assert len(calls) == 1


def test_nothing_found_is_not_cached(key):
    calls = []

    assert lookup_cached(key, loader(None, calls)) is None
    assert lookup_cached(key, loader("now there", calls)) == "now there"
    assert len(calls) == 2


def test_a_forgotten_lookup_reads_the_database_again(db, key):
    lookup_cached(key, loader("old", []))

    lookup_forget(key)

    assert lookup_cached(key, loader("new", [])) == "new"


def test_a_reader_that_saw_the_old_row_cannot_cache_it_after_the_change(db, key):
    # The reader loads the old row, the writer forgets the key, then the reader tries to cache what it read.
    def stale_load():
        lookup_forget(key)
        return "old"

    assert lookup_cached(key, stale_load) == "old"
    assert lookup_cached(key, loader("new", [])) == "new"


def test_forgetting_inside_a_transaction_forgets_again_at_commit(key, committed_db):
    with transaction.atomic():
        lookup_forget(key)
        # Between the change and the commit a reader still sees the old row; the tombstone keeps it out...
        lookup_cached(key, loader("old", []))
        lookup_cache.get_redis_connection("default").delete(key)  # ...even if the tombstone were gone
        lookup_cached(key, loader("old", []))

    assert lookup_cached(key, loader("new", [])) == "new"


def test_with_redis_unreachable_lookups_read_the_database(db, key, monkeypatch):
    def unreachable(alias):
        raise ConnectionError("redis down")

    monkeypatch.setattr(lookup_cache, "get_redis_connection", unreachable)
    calls = []

    assert lookup_cached(key, loader("row", calls)) == "row"
    assert lookup_cached(key, loader("row", calls)) == "row"
    assert len(calls) == 2
    lookup_forget(key)  # and forgetting does not fail


def test_the_tombstone_is_not_a_value(db, key):
    lookup_forget(key)

    assert lookup_cache.get_redis_connection("default").get(key) == TOMBSTONE
    assert lookup_cached(key, loader("row", [])) == "row"
