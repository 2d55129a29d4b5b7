"""Reads on the AI gateway's records across the platform (for ops)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import connection


def ai_spend_for_period(*, start: datetime, end: datetime) -> dict[str, Decimal]:
    """What the platform paid Anthropic for the AI requests made in [start, end), per currency: each settled
    request's usage at its model's prices (ModelPrice, per million tokens of each kind, as ai_cost prices it),
    in one aggregate. A request counts once it has settled; one still running adds its cost when it does."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT price.currency, SUM(
                (COALESCE((record.usage->>'input_tokens')::numeric, 0) * price.input_per_mtok
                 + COALESCE((record.usage->>'output_tokens')::numeric, 0) * price.output_per_mtok
                 + COALESCE((record.usage->>'cache_write_tokens')::numeric, 0) * price.cache_write_per_mtok
                 + COALESCE((record.usage->>'cache_read_tokens')::numeric, 0) * price.cache_read_per_mtok)
                / 1000000)
            FROM metering_aireservationrecord AS record
            JOIN metering_modelprice AS price ON price.model = record.model
            WHERE record.created_at >= %s AND record.created_at < %s
              AND record.settled_at IS NOT NULL AND record.usage IS NOT NULL
            GROUP BY price.currency
            """,
            [start, end],
        )
        return {currency: total for currency, total in cursor.fetchall()}
