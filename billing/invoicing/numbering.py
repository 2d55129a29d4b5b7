"""Gapless document numbers: TG-2026-000123 for invoices, CN-2026-000045 for credit notes.

A number is taken from the DocumentSequence row of its series and year under that row's lock, which is held
until the caller's transaction ends: a second caller waits, so no number is given twice, and a caller that rolls
back gives its number back to the next one, so none is skipped. The price is that documents of one series are
numbered one at a time, so callers take the number as late in their transaction as they can."""

from __future__ import annotations

from django.db import connection

from billing.models import DocumentSequence

NUMBER_DIGITS = 6

# One statement that takes the row lock, advances the counter (by one, or by a batch) and says where it is now.
ADVANCE_SQL = """
UPDATE billing_documentsequence SET last_number = last_number + %s
 WHERE series = %s AND year = %s
RETURNING last_number
"""


def document_number_next(*, series: str, year: int) -> str:
    """The next number of `series` in `year`, e.g. "TG-2026-000123"; numbering restarts at 1 each year.

    Must run inside the caller's transaction (RuntimeError otherwise), the one that stores the document: the
    number is only gapless if the row lock and the document commit or roll back together."""
    if not connection.in_atomic_block:
        raise RuntimeError("document_number_next must run inside the transaction that stores the document.")
    if not series or "-" in series:
        raise ValueError(f"A series is a non-empty code without hyphens, not {series!r}.")
    number = _advance(series, year)
    if number is None:
        # The first number of a year creates its row. ON CONFLICT DO NOTHING (rather than get_or_create) waits
        # for a concurrent insert of the same row to commit instead of failing on it, so two first callers
        # cannot collide; the advance then waits for the other's lock.
        DocumentSequence.objects.bulk_create([DocumentSequence(series=series, year=year)], ignore_conflicts=True)
        number = _advance(series, year)
    return f"{series}-{year}-{number:0{NUMBER_DIGITS}d}"


def document_numbers_next(*, series: str, year: int, count: int) -> list[str]:
    """The next `count` numbers of `series` in `year`, in order: document_number_next for a whole batch of
    documents stored by one transaction (the billing run's chunk), in one statement. The same lock and the same
    rule: must run inside that transaction, so the batch's numbers are given back together if it rolls back."""
    if count < 1:
        return []
    if not connection.in_atomic_block:
        raise RuntimeError("document_numbers_next must run inside the transaction that stores the documents.")
    if not series or "-" in series:
        raise ValueError(f"A series is a non-empty code without hyphens, not {series!r}.")
    last = _advance(series, year, by=count)
    if last is None:
        DocumentSequence.objects.bulk_create([DocumentSequence(series=series, year=year)], ignore_conflicts=True)
        last = _advance(series, year, by=count)
    return [f"{series}-{year}-{number:0{NUMBER_DIGITS}d}" for number in range(last - count + 1, last + 1)]


def _advance(series: str, year: int, *, by: int = 1) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(ADVANCE_SQL, [by, series, year])
        row = cursor.fetchone()
    return row[0] if row else None
