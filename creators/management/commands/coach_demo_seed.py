"""Give the demo tenant's owner a creator profile and a half-done coach project (run by `./dev up`; safe to
repeat)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from creators.demo import coach_demo_seed
from tenants.models import Tenant

DEMO_TENANT = "acme"


class Command(BaseCommand):
    help = "Seed a creator profile and a premium community project halfway through for the demo tenant's owner."

    def handle(self, *args, **options) -> None:
        tenant = Tenant.objects.filter(slug=DEMO_TENANT).first()
        if tenant is None:
            self.stderr.write(f"No tenant {DEMO_TENANT!r}: run demo_seed first.")
            return
        written = coach_demo_seed(tenant=tenant, user_email=tenant.owner_email, now=timezone.now())
        self.stdout.write(f"Demo coach for {tenant.slug}: {'seeded' if written else 'already there'}.")
