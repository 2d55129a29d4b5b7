"""The template-schema trap: django-tenants migrates only schemas with a Tenant row, so without our
migrate command the template falls behind and new tenants get migrations recorded without their columns.
And the deploy cost: a tenant schema already migrated like the template is skipped, the rest run in parallel."""

import io
import shutil
import sys

import pytest
from django.conf import settings
from django.core.management import BaseCommand, call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import override_settings
from django_tenants.signals import schema_pre_migration

from tenants.models import Tenant
from tests.support.factories import ProvisionedTenantFactory

PROBE_NAME = "9999_user_probe_column"
PROBE_MIGRATION = '''
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "{leaf}")]
    operations = [migrations.AddField("user", "probe_column", models.IntegerField(null=True))]
'''


@pytest.fixture
def accounts_with_a_new_migration(tmp_path):
    package = tmp_path / "probe_accounts_migrations"
    shutil.copytree(settings.BASE_DIR / "accounts" / "migrations", package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    leaf = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes("accounts")[0][1]
    (package / f"{PROBE_NAME}.py").write_text(PROBE_MIGRATION.replace("{leaf}", leaf))
    sys.path.insert(0, str(tmp_path))
    try:
        with override_settings(MIGRATION_MODULES={"accounts": "probe_accounts_migrations"}):
            yield
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("probe_accounts_migrations", None)


@pytest.fixture
def migrated_schemas():
    """The schemas the command ran Django's migrate in (in this process), in order."""
    names = []

    def record(sender, schema_name, **kwargs):
        names.append(schema_name)

    schema_pre_migration.connect(record)
    yield names
    schema_pre_migration.disconnect(record)


@pytest.fixture
def probe_column_removed_afterwards(committed_db):
    """A committed migration stays in this worker's database: take the probe back out of every schema."""
    yield
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_schema FROM information_schema.columns "
                       "WHERE table_name = 'accounts_user' AND column_name = 'probe_column'")
        for (schema,) in cursor.fetchall():
            cursor.execute(f'ALTER TABLE "{schema}".accounts_user DROP COLUMN probe_column')
            cursor.execute(f'DELETE FROM "{schema}".django_migrations WHERE app = %s AND name = %s',
                           ["accounts", PROBE_NAME])


def _columns(schema: str, table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            [schema, table],
        )
        return {row[0] for row in cursor.fetchall()}


def _tenant_schemas() -> list[str]:
    return list(Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME).values_list("schema_name", flat=True))


@pytest.mark.django_db
def test_migrate_applies_a_new_migration_to_the_template_schema(accounts_with_a_new_migration):
    call_command("migrate", interactive=False, verbosity=0)

    assert "probe_column" in _columns(settings.TENANT_BASE_SCHEMA, "accounts_user")


@pytest.mark.django_db
def test_a_tenant_cloned_after_a_new_migration_has_its_column(accounts_with_a_new_migration):
    call_command("migrate", interactive=False, verbosity=0)

    result = ProvisionedTenantFactory()

    assert "probe_column" in _columns(result.tenant.schema_name, "accounts_user")
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT 1 FROM "{result.tenant.schema_name}".django_migrations '
            "WHERE app = 'accounts' AND name = %s", [PROBE_NAME]
        )
        assert cursor.fetchone() is not None


@pytest.mark.django_db
def test_migrate_applies_a_new_migration_to_existing_tenants(accounts_with_a_new_migration, tenant_alpha):
    call_command("migrate", interactive=False, verbosity=0)

    assert "probe_column" in _columns(tenant_alpha.schema_name, "accounts_user")


@pytest.mark.django_db
def test_noop_migrate_skips_up_to_date_schemas(migrated_schemas, tenant_alpha, tenant_beta):
    call_command("migrate", interactive=False, verbosity=0)

    assert migrated_schemas == [settings.PUBLIC_SCHEMA_NAME]


@pytest.mark.django_db
def test_schema_behind_is_migrated_while_others_skipped(accounts_with_a_new_migration, migrated_schemas,
                                                         tenant_alpha, tenant_beta):
    call_command("migrate", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute('ALTER TABLE "alpha".accounts_user DROP COLUMN probe_column')
        cursor.execute('DELETE FROM "alpha".django_migrations WHERE app = %s AND name = %s', ["accounts", PROBE_NAME])
    migrated_schemas.clear()

    call_command("migrate", interactive=False, verbosity=0)

    assert migrated_schemas == [settings.PUBLIC_SCHEMA_NAME, "alpha"]
    assert "probe_column" in _columns("alpha", "accounts_user")


@pytest.mark.django_db
def test_system_checks_run_once_not_once_per_schema(accounts_with_a_new_migration, tenant_alpha, tenant_beta,
                                                    monkeypatch):
    runs = []
    check = BaseCommand.check

    def counted_check(self, *args, **kwargs):
        runs.append(type(self).__module__)
        return check(self, *args, **kwargs)

    monkeypatch.setattr(BaseCommand, "check", counted_check)

    call_command("migrate", interactive=False, verbosity=0, skip_checks=False)

    assert len(runs) == 1
    assert "probe_column" in _columns("beta", "accounts_user")


@pytest.mark.django_db
def test_schema_with_a_migration_row_the_template_lacks_is_not_skipped(migrated_schemas, tenant_alpha):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO \"alpha\".django_migrations (app, name, applied) "
                       "VALUES ('accounts', '9998_gone_from_disk', now())")

    call_command("migrate", interactive=False, verbosity=0)

    assert "alpha" in migrated_schemas


def test_real_migration_reaches_every_schema_and_template(accounts_with_a_new_migration,
                                                           probe_column_removed_afterwards):
    # Committed, outside any transaction: the run a deploy makes, with the tenant schemas in parallel processes.
    for _ in range(3):
        ProvisionedTenantFactory()
    tenant_schemas = _tenant_schemas()

    output = io.StringIO()
    call_command("migrate", interactive=False, verbosity=1, stdout=output)

    assert "executor multiprocessing" in output.getvalue()
    for schema in [settings.PUBLIC_SCHEMA_NAME, settings.TENANT_BASE_SCHEMA, *tenant_schemas]:
        assert "probe_column" in _columns(schema, "accounts_user"), schema
    assert len(tenant_schemas) >= 5
