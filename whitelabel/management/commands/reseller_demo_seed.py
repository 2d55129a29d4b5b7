"""Give the demo northwind's reseller billing (run by `./dev up` after the agencies and white-label seeds; a second
run changes nothing): see whitelabel.resellers.demo."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from whitelabel.resellers.demo import reseller_demo_seed


class Command(BaseCommand):
    help = "Seed northwind's brand, invoicing details, price list and invoices to its clients (idempotent)."

    def handle(self, *args, **options) -> None:
        for line in reseller_demo_seed(now=timezone.now()):
            self.stdout.write(f"Demo reseller billing: {line}")
