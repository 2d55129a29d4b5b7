"""Whether a schema has migrations to apply, and which tenant schemas have exactly the migrations the template has.

`migrate` brings the template fully up to date first, against the migration graph on disk, so right after that
"the same (app, name) rows in django_migrations as the template" means "nothing to migrate" for a tenant schema,
and running Django's migrate there (0.1–0.2 s per schema: the migration loader, every model rendered for
post_migrate, and from the command line the system checks) can be skipped. The rows themselves are compared,
not a marker written beside them, so a schema whose django_migrations was changed by hand is still caught.
"""

from collections.abc import Sequence

from django.db import connections
from django.db.migrations.executor import MigrationExecutor

# Each statement reads one django_migrations table per schema and PostgreSQL keeps a lock on every table (and
# index) it reads until the transaction ends: batches keep that far below its shared lock table
# (max_locks_per_transaction × max_connections, 6,400 by default), however many tenants there are.
SCHEMAS_PER_STATEMENT = 500

# App labels are Python identifiers, so ':' cannot occur in one and "app:name" is unambiguous.
_APPLIED = "array_agg(DISTINCT app || ':' || name ORDER BY app || ':' || name)"


def schema_fully_migrated(*, schema_name: str, database: str = "default") -> bool:
    """Whether the schema has every migration of the graph on disk applied (Django's own plan for a `migrate`
    without targets is empty): then its migrate would only re-send post_migrate, which creates content types and
    permissions for models that, with a migration for each, it already has."""
    connection = connections[database]
    connection.set_schema(schema_name, include_public=False)
    try:
        executor = MigrationExecutor(connection)
        return not executor.migration_plan(executor.loader.graph.leaf_nodes())
    finally:
        connection.set_schema_to_public()


def schemas_migrated_like_template(*, schema_names: Sequence[str], template: str,
                                   database: str = "default") -> set[str]:
    """Return the schemas among `schema_names` whose django_migrations holds the same set of (app, name) rows
    as the `template` schema's (ignoring when they were applied and duplicate rows).

    A schema without a django_migrations table is never returned. The caller must have brought the template
    fully up to date in the same run (`schema_fully_migrated`): equality with a template that is behind proves
    nothing.
    """
    with_table = _schemas_with_migrations_table(schema_names, database)
    matching: set[str] = set()
    for start in range(0, len(with_table), SCHEMAS_PER_STATEMENT):
        matching |= _matching_in_batch(with_table[start:start + SCHEMAS_PER_STATEMENT], template, database)
    return matching


def _schemas_with_migrations_table(schema_names: Sequence[str], database: str) -> list[str]:
    with connections[database].cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = 'django_migrations' AND c.relkind IN ('r', 'p') AND n.nspname = ANY(%s) "
            "ORDER BY n.nspname",
            [list(schema_names)],
        )
        return [row[0] for row in cursor.fetchall()]


def _matching_in_batch(schema_names: list[str], template: str, database: str) -> set[str]:
    per_schema = " UNION ALL ".join(
        f"SELECT %s AS schema_name, (SELECT {_APPLIED} FROM {_quoted(name)}.django_migrations) AS applied"
        for name in schema_names
    )
    with connections[database].cursor() as cursor:
        cursor.execute(
            f"SELECT schema_name FROM ({per_schema}) AS tenant_schemas "
            f"WHERE applied = (SELECT {_APPLIED} FROM {_quoted(template)}.django_migrations)",
            schema_names,
        )
        return {row[0] for row in cursor.fetchall()}


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
