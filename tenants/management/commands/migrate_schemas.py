"""`migrate_schemas` (and `migrate`): the public schema, then the tenant template schema, then only the tenant
schemas that need it, in parallel.

django-tenants migrates only schemas that have a Tenant row, so the template a new tenant is cloned from would
silently fall behind, and a tenant cloned from it would get new migrations recorded as applied without their
tables or columns. This command brings the template up to date on every run that migrates tenant schemas, and
does it before the tenants: once the template is fully migrated against the graph on disk, a tenant schema whose
django_migrations rows equal the template's has nothing to do and is skipped (`tenants.migration_state`), so a
deploy with nothing to migrate costs one comparison per 500 schemas instead of Django's migrate per schema.
"""

import os

from django.conf import settings
from django.db import connections
from django_tenants.management.commands import SyncCommon
from django_tenants.management.commands.migrate_schemas import GET_EXECUTOR_FUNCTION, MigrateSchemasCommand
from django_tenants.utils import get_tenant_model

from tenants import schemas
from tenants.migration_state import schema_fully_migrated, schemas_migrated_like_template
from tenants.services import public_tenant_ensure

# Runs for which "fully migrated" or "equal to the template" does not mean "nothing to do": --fake leaves the
# template alone, --plan and --check apply nothing to it, --run-syncdb creates tables that django_migrations does
# not record, --prune deletes rows, and a named migration may unapply. These run in every schema, as
# django-tenants does.
OPTIONS_THAT_PREVENT_SKIPPING = ("fake", "plan", "check_unapplied", "run_syncdb", "prune", "migration_name")


class Command(MigrateSchemasCommand):
    # As in Django's migrate: the system checks run inside the first schema's migrate, database checks included,
    # and are not repeated for every schema after it (about 0.1 s each).
    requires_system_checks = []

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--skip-checks", action="store_true", help="Skip system checks.")

    def handle(self, *args, **options):
        if options.get("schema_name") not in (None, "", settings.PUBLIC_SCHEMA_NAME):
            # One named schema (a tenant's or the template's): django-tenants' own path is already that.
            super().handle(*args, **options)
            return
        SyncCommon.handle(self, *args, **options)
        if self.sync_public:
            self._schemas_migrate("standard", [settings.PUBLIC_SCHEMA_NAME])
            schemas.clone_function_install()
            public_tenant_ensure()
        if self.sync_tenant:
            self._template_migrate()
            self._tenant_schemas_migrate()

    def _template_migrate(self) -> None:
        # A faked template would hand every future tenant migrations recorded without their tables.
        if self.options.get("fake"):
            return
        template = settings.TENANT_BASE_SCHEMA
        schemas.schema_create_if_missing(template)
        if self._skipping_allowed() and schema_fully_migrated(schema_name=template, database=self.options["database"]):
            return
        self._schemas_migrate("standard", [template])

    def _tenant_schemas_migrate(self) -> None:
        tenant_schemas = list(
            get_tenant_model().objects.customers()
            .order_by("pk").values_list("schema_name", flat=True)
        )
        if self._skipping_allowed():
            up_to_date = schemas_migrated_like_template(
                schema_names=tenant_schemas, template=settings.TENANT_BASE_SCHEMA, database=self.options["database"]
            )
            pending = [name for name in tenant_schemas if name not in up_to_date]
        else:
            pending = tenant_schemas
        codename = self._tenant_executor_codename(len(pending))
        if self.options.get("verbosity", 1) >= 1:
            self._notice(f"Tenant schemas: {len(tenant_schemas)}, already migrated like the template: "
                         f"{len(tenant_schemas) - len(pending)}, to migrate: {len(pending)} (executor {codename})")
        if pending:
            self._schemas_migrate(codename, pending)

    def _skipping_allowed(self) -> bool:
        return not any(self.options.get(option) for option in OPTIONS_THAT_PREVENT_SKIPPING)

    def _tenant_executor_codename(self, pending_count: int) -> str:
        """An executor named with --executor or django-tenants' EXECUTOR variable wins. Otherwise several schemas
        run in parallel processes (TENANT_MULTIPROCESSING_MAX_PROCESSES) unless the caller holds a transaction
        open, which forked processes could not join (and the parallel executor would close its connection)."""
        chosen = self.executor or os.environ.get("EXECUTOR")
        if chosen:
            return chosen
        if pending_count > 1 and not connections[self.options["database"]].in_atomic_block:
            return "multiprocessing"
        return "standard"

    def _schemas_migrate(self, codename: str, schema_names: list[str]) -> None:
        GET_EXECUTOR_FUNCTION(codename=codename)(self.args, self.options).run_migrations(tenants=schema_names)
        self.options = {**self.options, "skip_checks": True}
