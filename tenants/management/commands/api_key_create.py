"""`./dev manage api_key_create --tenant acme --name ci --scopes read,write` prints a new key once."""

from django.core.management.base import BaseCommand, CommandError

from tenants.exceptions import ApiKeyInvalid
from tenants.models import Tenant
from tenants.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a tenant and print it (it is shown only this once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("--name", required=True, help="What the key is for.")
        parser.add_argument("--scopes", default="read",
                            help="Comma-separated: read, write, usage:write, ai, billing, coach.")

    def handle(self, *args, **options) -> None:
        tenant = Tenant.objects.customers().filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        scopes = [scope.strip() for scope in options["scopes"].split(",") if scope.strip()]
        try:
            created = api_key_create(tenant=tenant, name=options["name"], scopes=scopes, created_by="manage.py")
        except ApiKeyInvalid as error:
            raise CommandError(error.message) from None
        self.stdout.write(created.secret)
        self.stderr.write(f"Created {created.api_key.prefix}… for {tenant.slug} with scopes "
                          f"{', '.join(created.api_key.scopes)}. Store the key now: it is not shown again.")
