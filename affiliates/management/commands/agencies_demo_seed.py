"""Give the demo its agency (run by `./dev up` after the other demo seeds; a second run changes nothing): see
affiliates.agencies.demo."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from affiliates.agencies.demo import agencies_demo_seed


class Command(BaseCommand):
    help = "Seed the demo's agency: northwind's two clients, one of which gave it access (idempotent)."

    def handle(self, *args, **options) -> None:
        for line in agencies_demo_seed(now=timezone.now()):
            self.stdout.write(f"Demo agency: {line}")
