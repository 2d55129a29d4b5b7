"""Give the demo northwind's sending domain (run by `./dev up` after the reseller seed; a second run changes
nothing): see whitelabel.email.demo."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from whitelabel.email.demo import sender_domain_demo_seed


class Command(BaseCommand):
    help = "Seed the demo's sending domain: northwind's brand sends from hello@northwind.test, verified (idempotent)."

    def handle(self, *args, **options) -> None:
        for line in sender_domain_demo_seed(now=timezone.now()):
            self.stdout.write(f"Demo sending domain: {line}")
