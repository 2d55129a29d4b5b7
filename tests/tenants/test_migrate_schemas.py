"""The template-schema trap: django-tenants migrates only schemas with a Tenant row, so without our
migrate command the template falls behind and new tenants get migrations recorded without their columns."""

import shutil
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import override_settings

from tests.tenants.factories import provisioned_tenant

pytestmark = pytest.mark.django_db

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
    (package / "9999_user_probe_column.py").write_text(PROBE_MIGRATION.replace("{leaf}", leaf))
    sys.path.insert(0, str(tmp_path))
    try:
        with override_settings(MIGRATION_MODULES={"accounts": "probe_accounts_migrations"}):
            yield
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("probe_accounts_migrations", None)


def _columns(schema: str, table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            [schema, table],
        )
        return {row[0] for row in cursor.fetchall()}


def test_migrate_applies_a_new_migration_to_the_template_schema(accounts_with_a_new_migration):
    call_command("migrate", interactive=False, verbosity=0)

    assert "probe_column" in _columns(settings.TENANT_BASE_SCHEMA, "accounts_user")


def test_a_tenant_cloned_after_a_new_migration_has_its_column(accounts_with_a_new_migration):
    call_command("migrate", interactive=False, verbosity=0)

    result = provisioned_tenant()

    assert "probe_column" in _columns(result.tenant.schema_name, "accounts_user")
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT 1 FROM "{result.tenant.schema_name}".django_migrations '
            "WHERE app = 'accounts' AND name = '9999_user_probe_column'"
        )
        assert cursor.fetchone() is not None


def test_migrate_applies_a_new_migration_to_existing_tenants(accounts_with_a_new_migration, tenant_alpha):
    call_command("migrate", interactive=False, verbosity=0)

    assert "probe_column" in _columns(tenant_alpha.schema_name, "accounts_user")
