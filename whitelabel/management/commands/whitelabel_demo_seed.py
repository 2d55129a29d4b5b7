"""Give the demo northwind's custom domain (run by `./dev up` after the agencies seed; a second run changes
nothing): see whitelabel.domains.demo."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from whitelabel.domains.demo import whitelabel_demo_seed


class Command(BaseCommand):
    help = "Seed the demo's custom domain: northwind's portal.northwind.localhost, verified and active (idempotent)."

    def handle(self, *args, **options) -> None:
        for line in whitelabel_demo_seed(now=timezone.now()):
            self.stdout.write(f"Demo custom domain: {line}")
