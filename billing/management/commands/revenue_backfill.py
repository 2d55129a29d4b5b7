"""Snapshot revenue for every day since a date (what the 02:00 UTC beat job does for one day):
`./dev manage revenue_backfill --since 2025-12-01`. Safe to repeat: a day taken again is replaced."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from billing.analytics.services import last_ended_day, revenue_backfill


class Command(BaseCommand):
    help = "Take the revenue snapshot of every UTC day from --since to yesterday, then refresh money and churn risk."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", required=True, help="The first day to snapshot, YYYY-MM-DD (UTC).")

    def handle(self, *args, **options) -> None:
        try:
            since = date.fromisoformat(options["since"])
        except ValueError as error:
            raise CommandError(f"--since takes a date as YYYY-MM-DD, not {options['since']!r}.") from error
        now = timezone.now()
        if since > last_ended_day(now):
            raise CommandError(f"--since must be a day that has ended (yesterday, {last_ended_day(now)}, or before).")
        run = revenue_backfill(since=since, now=now)
        self.stdout.write(f"days snapshotted: {len(run.days)} ({run.days[0]} to {run.days[-1]}), "
                          f"money rows: {run.money_rows}, customers scored: {run.churn_scored}, "
                          f"in {run.seconds:.1f} s")
