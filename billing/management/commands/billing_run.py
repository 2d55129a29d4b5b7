"""Run the billing run now (what the beat job does every 15 minutes): `./dev manage billing_run`."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from billing.invoicing.run import billing_run


class Command(BaseCommand):
    help = "Invoice every subscription period that has ended and finalise the drafts that are due. Safe to repeat."

    def handle(self, *args, **options) -> None:
        result = billing_run(now=timezone.now())
        self.stdout.write(f"invoices created: {result.invoices_created}, finalised: {result.invoices_finalized}, "
                          f"subscriptions rolled: {result.subscriptions_rolled}, ended: {result.subscriptions_ended}, "
                          f"failed: {len(result.failed)}")
        if result.failed:
            self.stderr.write(f"failed subscriptions (see the log; the next run retries them): {result.failed}")
