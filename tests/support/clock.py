"""The instant the frozen clock (the `frozen_now` fixture) stops at: mid-month, mid-day, UTC."""

from datetime import UTC, datetime

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
