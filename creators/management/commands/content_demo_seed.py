"""Give the demo tenant a few saved drafts in its content library (run by `./dev up`; safe to repeat)."""

from django.core.management.base import BaseCommand

from creators.content.demo import content_demo_seed
from tenants.models import Tenant

DEMO_TENANT = "acme"


class Command(BaseCommand):
    help = "Seed saved content drafts (written by hand, not metered) for the demo tenant."

    def handle(self, *args, **options) -> None:
        tenant = Tenant.objects.filter(slug=DEMO_TENANT).first()
        if tenant is None:
            self.stderr.write(f"No tenant {DEMO_TENANT!r}: run demo_seed first.")
            return
        written = content_demo_seed(tenant=tenant, author_email=tenant.owner_email)
        self.stdout.write(f"Demo content for {tenant.slug}: {written} draft(s) written.")
