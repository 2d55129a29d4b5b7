"""Gapless document numbers: one series per kind of document, restarting each year, never repeated, never
skipped, even when two transactions take numbers at once or one of them rolls back."""

import threading

import pytest
from django.db import connection, transaction

from billing.invoicing.numbering import document_number_next
from billing.models import DocumentSequence

THREADS = 12
# Series no document uses, so that numbers another test committed cannot shift the ones asserted here.
INVOICES, CREDIT_NOTES = "ZI", "ZK"


class Rollback(Exception):
    """Raised inside a transaction to roll it back after it took a number."""


def test_the_first_number_of_a_year_is_one_padded_to_six_digits(db):
    assert document_number_next(series=INVOICES, year=2026) == "ZI-2026-000001"


def test_each_number_follows_the_last(db):
    numbers = [document_number_next(series=INVOICES, year=2026) for _ in range(3)]

    assert numbers == ["ZI-2026-000001", "ZI-2026-000002", "ZI-2026-000003"]


def test_invoices_and_credit_notes_count_apart(db):
    document_number_next(series=INVOICES, year=2026)
    document_number_next(series=INVOICES, year=2026)

    assert document_number_next(series=CREDIT_NOTES, year=2026) == "ZK-2026-000001"


def test_a_new_year_starts_again_at_one(db):
    document_number_next(series=INVOICES, year=2026)
    document_number_next(series=INVOICES, year=2026)

    assert document_number_next(series=INVOICES, year=2027) == "ZI-2027-000001"
    assert document_number_next(series=INVOICES, year=2026) == "ZI-2026-000003"


def test_a_number_taken_in_a_rolled_back_transaction_goes_to_the_next_document(db):
    document_number_next(series=INVOICES, year=2026)
    with pytest.raises(Rollback), transaction.atomic():
        document_number_next(series=INVOICES, year=2026)
        raise Rollback

    assert document_number_next(series=INVOICES, year=2026) == "ZI-2026-000002"


def test_taking_a_number_outside_a_transaction_is_refused(committed_db):
    # Committed at once, the number would be lost if the document then failed to save: a gap.
    with pytest.raises(RuntimeError):
        document_number_next(series="XN", year=2026)

    assert not DocumentSequence.objects.filter(series="XN").exists()


def test_a_series_with_a_hyphen_is_refused(db):
    # It would make numbers ambiguous to split back into series, year and counter.
    with pytest.raises(ValueError):
        document_number_next(series="T-G", year=2026)


# --- Concurrency (real commits, one connection per thread) ------------------------------------------

@pytest.fixture
def concurrent_series(committed_db):
    # Its own series (the Z… series are other tests' invoice series), cleared before and after.
    DocumentSequence.objects.filter(series="XQ").delete()
    yield "XQ"
    DocumentSequence.objects.filter(series="XQ").delete()


def test_concurrent_transactions_number_without_repeats_or_gaps_even_when_some_roll_back(concurrent_series):
    barrier = threading.Barrier(THREADS)
    committed: list[str] = []
    errors: list[Exception] = []

    def take(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                number = document_number_next(series=concurrent_series, year=2026)
                if n % 3 == 0:
                    raise Rollback  # e.g. the invoice failed to save after it was numbered
            committed.append(number)
        except Rollback:
            pass
        except Exception as error:  # the outcome under test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    kept = THREADS - len(range(0, THREADS, 3))
    assert sorted(committed) == [f"{concurrent_series}-2026-{n:06d}" for n in range(1, kept + 1)]
