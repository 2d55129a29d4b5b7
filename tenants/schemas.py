"""PostgreSQL schema operations for tenants: the clone function, schema existence, cloning the template."""

from django.conf import settings
from django.db import connection
from django_tenants.clone import CLONE_SCHEMA_FUNCTION
from django_tenants.utils import schema_exists


def clone_function_install() -> None:
    """Install django-tenants' clone_schema() once at migrate time, not on every signup (it is 4,000 lines)."""
    db_user = settings.DATABASES["default"].get("USER") or "postgres"
    with connection.cursor() as cursor:
        cursor.execute(CLONE_SCHEMA_FUNCTION.format(db_user=db_user))


def clone_function_installed() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_proc WHERE proname = 'clone_schema' AND pronamespace = 'public'::regnamespace"
        )
        return cursor.fetchone() is not None


def schema_create_if_missing(schema_name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema_name}"')


def schema_clone_from_template(schema_name: str) -> None:
    """Copy the pre-migrated template schema (tables, indexes, constraints, sequences and its
    django_migrations rows) into a new schema, inside the caller's transaction."""
    connection.set_schema_to_public()
    if not clone_function_installed():
        clone_function_install()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT public.clone_schema(%s, %s, 'DATA')", [settings.TENANT_BASE_SCHEMA, schema_name]
        )
    # clone_schema() switches search_path while it works: never trust what the connection has after it.
    connection.search_path_forget()


def schema_is_present(schema_name: str) -> bool:
    return schema_exists(schema_name)
