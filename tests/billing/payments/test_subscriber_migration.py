"""Migration 0010 points dj-stripe's customer-to-subscriber link at the tenants in a database migrated while the
subscriber model was still the user (a fresh database has it right already)."""

import importlib

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

SUBSCRIBER_TO_TENANT_SQL = importlib.import_module("billing.migrations.0010_payments").SUBSCRIBER_TO_TENANT_SQL


def subscriber_link_targets() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT con.confrelid::regclass::text FROM pg_constraint con
              JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = ANY (con.conkey)
             WHERE con.contype = 'f' AND con.conrelid = 'djstripe_customer'::regclass
               AND att.attname = 'subscriber_id'""")
        return [row[0] for row in cursor.fetchall()]


def test_a_link_to_the_user_table_is_pointed_at_the_tenants():
    with connection.cursor() as cursor:
        for (name,) in _link_names(cursor):
            cursor.execute(f'ALTER TABLE djstripe_customer DROP CONSTRAINT "{name}"')
        cursor.execute("ALTER TABLE djstripe_customer ADD CONSTRAINT old_subscriber_to_user "
                       "FOREIGN KEY (subscriber_id) REFERENCES accounts_user (id) DEFERRABLE INITIALLY DEFERRED")
        assert subscriber_link_targets() == ["accounts_user"]

        cursor.execute(SUBSCRIBER_TO_TENANT_SQL)

    assert subscriber_link_targets() == ["tenants_tenant"]


def test_a_link_to_the_tenants_is_left_as_it_is():
    assert subscriber_link_targets() == ["tenants_tenant"]

    with connection.cursor() as cursor:
        cursor.execute(SUBSCRIBER_TO_TENANT_SQL)

    assert subscriber_link_targets() == ["tenants_tenant"]


def _link_names(cursor) -> list[tuple[str]]:
    cursor.execute("""
        SELECT con.conname FROM pg_constraint con
          JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = ANY (con.conkey)
         WHERE con.contype = 'f' AND con.conrelid = 'djstripe_customer'::regclass AND att.attname = 'subscriber_id'""")
    return cursor.fetchall()
