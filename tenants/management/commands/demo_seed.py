"""Load the demo: an ops account and four tenants (a business, an agency, the agency's client and a creator).

Idempotent: running it again changes nothing and prints the same logins.
"""

from django.core.management.base import BaseCommand

from accounts.models import User
from tenants.models import Tenant
from tenants.services import tenant_provision
from tenants.urls_for import public_url, tenant_url

DEMO_PASSWORD = "tollgate-demo-2026"
OPS_EMAIL = "ops@tollgate.localhost"
DEMO_TENANTS = [
    {"slug": "acme", "name": "Acme Analytics", "type": Tenant.Type.BUSINESS, "owner": "owner@acme.test"},
    {"slug": "northwind", "name": "Northwind Agency", "type": Tenant.Type.AGENCY, "owner": "owner@northwind.test"},
    {"slug": "bloom", "name": "Bloom Studio", "type": Tenant.Type.INDIVIDUAL, "owner": "owner@bloom.test",
     "parent": "northwind"},
    {"slug": "sprout", "name": "Sprout Creators", "type": Tenant.Type.INDIVIDUAL, "owner": "owner@sprout.test"},
]


class Command(BaseCommand):
    help = "Create the demo ops account and tenants (idempotent) and print where to log in."

    def handle(self, *args, **options) -> None:
        if not User.objects.filter(email=OPS_EMAIL).exists():
            User.objects.create_superuser(OPS_EMAIL, DEMO_PASSWORD, full_name="Demo Operator")
        rows = []
        for spec in DEMO_TENANTS:
            parent = Tenant.objects.get(slug=spec["parent"]) if spec.get("parent") else None
            result = tenant_provision(
                name=spec["name"], slug=spec["slug"], owner_email=spec["owner"], owner_password=DEMO_PASSWORD,
                tenant_type=spec["type"], parent_agency=parent,
            )
            rows.append((result.tenant, spec["owner"]))
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Tollgate demo"))
        self.stdout.write(f"  public site   {public_url('/')}")
        self.stdout.write(f"  ops admin     {public_url('/admin/')}   {OPS_EMAIL} / {DEMO_PASSWORD}")
        for tenant, owner in rows:
            label = f"{tenant.get_type_display().lower()}"
            if tenant.parent_agency_id:
                label += f", client of {tenant.parent_agency.slug}"
            self.stdout.write(f"  {tenant.slug:<13} {tenant_url(tenant, '/')}   {owner} / {DEMO_PASSWORD}   ({label})")
        self.stdout.write("")
