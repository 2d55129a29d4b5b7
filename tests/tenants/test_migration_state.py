import pytest
from django.conf import settings
from django.db import connection

from tenants import migration_state
from tenants.migration_state import schema_fully_migrated, schemas_migrated_like_template

pytestmark = pytest.mark.django_db

TEMPLATE = settings.TENANT_BASE_SCHEMA


def _execute(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


def test_schemas_cloned_from_the_template_match_it(tenant_alpha, tenant_beta):
    assert schemas_migrated_like_template(schema_names=["alpha", "beta"], template=TEMPLATE) == {"alpha", "beta"}


def test_when_migrations_were_applied_does_not_matter(tenant_alpha):
    _execute("UPDATE \"alpha\".django_migrations SET applied = now() - interval '1 year'")

    assert schemas_migrated_like_template(schema_names=["alpha"], template=TEMPLATE) == {"alpha"}


def test_a_schema_missing_one_migration_row_does_not_match(tenant_alpha, tenant_beta):
    _execute('DELETE FROM "alpha".django_migrations WHERE id = (SELECT max(id) FROM "alpha".django_migrations)')

    assert schemas_migrated_like_template(schema_names=["alpha", "beta"], template=TEMPLATE) == {"beta"}


def test_a_schema_with_a_row_the_template_lacks_does_not_match(tenant_alpha):
    _execute("INSERT INTO \"alpha\".django_migrations (app, name, applied) VALUES ('accounts', '9998_extra', now())")

    assert schemas_migrated_like_template(schema_names=["alpha"], template=TEMPLATE) == set()


def test_a_schema_without_a_migrations_table_does_not_match(tenant_alpha):
    _execute('CREATE SCHEMA "never_migrated"')

    assert schemas_migrated_like_template(schema_names=["never_migrated", "alpha"], template=TEMPLATE) == {"alpha"}


def test_schemas_compared_in_several_statements_all_match(tenant_alpha, tenant_beta, monkeypatch):
    monkeypatch.setattr(migration_state, "SCHEMAS_PER_STATEMENT", 1)

    assert schemas_migrated_like_template(schema_names=["alpha", "beta"], template=TEMPLATE) == {"alpha", "beta"}


def test_the_migrated_template_is_fully_migrated():
    assert schema_fully_migrated(schema_name=TEMPLATE)


def test_a_template_missing_one_migration_is_not_fully_migrated():
    _execute(f'DELETE FROM "{TEMPLATE}".django_migrations '
             f'WHERE id = (SELECT max(id) FROM "{TEMPLATE}".django_migrations)')

    assert not schema_fully_migrated(schema_name=TEMPLATE)
