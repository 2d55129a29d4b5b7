"""`migrate_schemas` (and `migrate`) that also keeps the tenant template schema migrated and the public tenant in place.

django-tenants migrates only schemas that have a Tenant row, so the template a new tenant is cloned from would
silently fall behind, and a tenant cloned from it would get new migrations recorded as applied without their
tables or columns. This command migrates the template on every run that migrates tenant schemas.
"""

from django.conf import settings
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand

from tenants import schemas
from tenants.services import public_tenant_ensure


class Command(MigrateSchemasCommand):
    def handle(self, *args, **options):
        super().handle(*args, **options)
        targets_template = self.schema_name in (None, "", settings.PUBLIC_SCHEMA_NAME, settings.TENANT_BASE_SCHEMA)
        if self.sync_public:
            schemas.clone_function_install()
            public_tenant_ensure()
        if self.sync_tenant and targets_template and not options.get("fake"):
            template = settings.TENANT_BASE_SCHEMA
            schemas.schema_create_if_missing(template)
            executor = self._template_executor(options)
            executor.run_migrations(tenants=[template])

    def _template_executor(self, options):
        from django_tenants.management.commands.migrate_schemas import GET_EXECUTOR_FUNCTION

        return GET_EXECUTOR_FUNCTION(codename="standard")(self.args, self.options)
