"""Test databases cloned from one migrated template database.

Migrating a fresh database takes about a minute (the public schema plus the tenant template schema), so it
is done once per set of migrations: the result is kept as `tollgate_tpl_<fingerprint>` and every pytest-xdist
worker (and every benchmark) gets its own copy with CREATE DATABASE ... TEMPLATE, which takes a second.
The template also holds two committed tenants, alpha and beta, that tests use without paying for a clone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connections

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PREFIX = "tollgate_tpl_"
ADVISORY_LOCK_ID = 7_316_002


def migrations_fingerprint() -> str:
    digest = hashlib.sha256()
    files = sorted(ROOT.glob("*/migrations/*.py")) + [ROOT / "requirements.txt", ROOT / "requirements-dev.txt",
                                                      Path(__file__), Path(__file__).with_name("tenants.py")]
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _maintenance_connection() -> psycopg.Connection:
    params = dict(connections["default"].get_connection_params())
    params["dbname"] = "postgres"
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    params.pop("server_side_binding", None)
    return psycopg.connect(autocommit=True, **params)


def _database_exists(cursor: psycopg.Cursor, name: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
    return cursor.fetchone() is not None


def _point_django_at(name: str) -> None:
    for connection in connections.all():
        connection.close()
    settings.DATABASES["default"]["NAME"] = name
    connections["default"].settings_dict["NAME"] = name


def template_database_ensure(seed: Callable[[], None]) -> str:
    """Return the name of the migrated, seeded template database, building it if this fingerprint has none."""
    name = f"{TEMPLATE_PREFIX}{migrations_fingerprint()}"
    original = settings.DATABASES["default"]["NAME"]
    with _maintenance_connection() as maintenance, maintenance.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_ID])
        try:
            if not _database_exists(cursor, name):
                building = f"{name}_building"
                cursor.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
                cursor.execute(f'CREATE DATABASE "{building}"')
                _point_django_at(building)
                call_command("migrate", interactive=False, verbosity=0)
                seed()
                _point_django_at(original)
                cursor.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
                cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s AND datname <> %s",
                               [f"{TEMPLATE_PREFIX}%", name])
                for (stale,) in cursor.fetchall():
                    cursor.execute(f'DROP DATABASE IF EXISTS "{stale}" WITH (FORCE)')
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_ID])
    return name


def database_clone(template: str, name: str) -> None:
    """Create (or recreate) database `name` as a copy of `template` and point Django at it."""
    _point_django_at(settings.DATABASES["default"]["NAME"])
    with _maintenance_connection() as maintenance, maintenance.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    _point_django_at(name)


def database_drop(name: str, *, fallback: str) -> None:
    _point_django_at(fallback)
    with _maintenance_connection() as maintenance, maintenance.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def bench_database(name: str) -> Iterator[None]:
    """For a benchmark: database `name`, a fresh copy of the template with tenants alpha and beta, with Django
    pointed at it; dropped afterwards, whatever happens."""
    from tests.support.tenants import standard_tenants_seed

    fallback = settings.DATABASES["default"]["NAME"]
    database_clone(template_database_ensure(standard_tenants_seed), name)
    try:
        yield
    finally:
        database_drop(name, fallback=fallback)
