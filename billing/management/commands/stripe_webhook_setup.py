"""Create or update the webhook endpoint dj-stripe verifies Stripe's deliveries with, its signing secret taken
from STRIPE_WEBHOOK_SECRET, and print the URL to give Stripe: `./dev manage stripe_webhook_setup`.
`--url-only` prints just the URL (what `./dev up` hands the local fake Stripe)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from billing.payments.webhooks import webhook_endpoint_ensure


class Command(BaseCommand):
    help = "Record the Stripe webhook endpoint (secret from STRIPE_WEBHOOK_SECRET) and print its URL. Safe to repeat."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url-only", action="store_true", help="Print only the endpoint's URL.")

    def handle(self, *args, **options) -> None:
        if not settings.STRIPE_WEBHOOK_SECRET:
            raise CommandError("Set STRIPE_WEBHOOK_SECRET to the endpoint's signing secret (whsec_...): the one "
                               "`stripe listen` prints, or the dashboard's for a registered endpoint.")
        endpoint = webhook_endpoint_ensure(secret=settings.STRIPE_WEBHOOK_SECRET)
        if options["url_only"]:
            self.stdout.write(endpoint.url)
            return
        self.stdout.write(f"Stripe webhook endpoint: {endpoint.url}")
        self.stdout.write(f"Locally: stripe listen --forward-to {endpoint.url}")
        self.stdout.write(f"Events it settles: {', '.join(endpoint.enabled_events)}")
