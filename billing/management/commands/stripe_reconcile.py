"""Reconcile our payments with Stripe now (what the 03:00 UTC beat job does): `./dev manage stripe_reconcile`.
Safe to repeat: whatever a run settles is settled once, and a disagreement found again is the same row."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.payments.errors import PaymentProviderUnavailable
from billing.payments.reconciliation import stripe_reconcile
from billing.payments.stripe_api import stripe_enabled


class Command(BaseCommand):
    help = "Compare open payments with Stripe's PaymentIntents, settle what missed webhooks left, list the rest."

    def handle(self, *args, **options) -> None:
        if not stripe_enabled():
            raise CommandError("Stripe is not configured (no STRIPE_SECRET_KEY): there is nothing to reconcile.")
        try:
            run = stripe_reconcile(now=timezone.now())
        except PaymentProviderUnavailable as error:
            raise CommandError(f"Stripe stopped answering; what was done so far is kept. {error}") from error
        self.stdout.write(f"invoices checked: {run.invoices_checked}, payments settled: {run.payments_settled}, "
                          f"open disagreements: {run.disagreements}")
