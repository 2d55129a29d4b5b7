"""Give the demo northwind's reseller portal (run by `./dev up` after the custom-domain and reseller seeds; a second
run changes nothing): see whitelabel.portals.demo."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from whitelabel.portals.demo import portal_demo_seed


class Command(BaseCommand):
    help = "Seed the demo's reseller portal: the wildcard record for northwind's clients, its landing text."

    def handle(self, *args, **options) -> None:
        for line in portal_demo_seed(now=timezone.now()):
            self.stdout.write(f"Demo reseller portal: {line}")
