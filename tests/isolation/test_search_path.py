"""`SET search_path` is sent once per schema switch (TENANT_LIMIT_SET_CALLS), and not at all when the kept
connection already has the search path selected (config/postgres/base.py). A rollback undoes a SET made inside
the transaction; these prove every query still runs in the schema the code selected, never in the previous
tenant's."""

import pytest
from django.db import connection, transaction

from tenants.models import Tenant


def search_path() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        return cursor.fetchone()[0]


def tenant(slug: str) -> Tenant:
    connection.set_schema_to_public()
    return Tenant.objects.get(slug=slug)


@pytest.mark.django_db
def test_after_a_savepoint_rollback_queries_stay_in_the_selected_schema():
    alpha, beta = tenant("alpha"), tenant("beta")
    connection.set_tenant(alpha)
    assert search_path().startswith("alpha")
    connection.set_tenant(beta)
    with pytest.raises(RuntimeError), transaction.atomic():
        assert search_path().startswith("beta")  # the SET happened inside the savepoint...
        raise RuntimeError("rolled back")

    assert search_path().startswith("beta")  # ...and is sent again after it was undone


def test_after_a_transaction_rollback_queries_stay_in_the_selected_schema(committed_db):
    alpha, beta = tenant("alpha"), tenant("beta")
    connection.set_tenant(alpha)
    assert search_path().startswith("alpha")  # autocommit: this SET outlives any transaction
    connection.set_tenant(beta)
    with pytest.raises(RuntimeError), transaction.atomic():
        assert search_path().startswith("beta")
        raise RuntimeError("rolled back")

    assert search_path().startswith("beta")


@pytest.mark.django_db
def test_switching_tenants_sends_the_set_once_per_switch(django_assert_num_queries):
    alpha, beta = tenant("alpha"), tenant("beta")
    connection.set_tenant(alpha)
    search_path()
    connection.set_tenant(beta)

    with django_assert_num_queries(3):  # SET search_path, then two queries without it
        assert search_path().startswith("beta")
        search_path()


@pytest.mark.django_db
def test_selecting_the_schema_the_connection_already_has_sends_no_set(django_assert_num_queries):
    alpha = tenant("alpha")
    connection.set_tenant(alpha)
    search_path()
    # As the next request for the same tenant does: route in public (no query), then select the tenant.
    connection.set_schema_to_public()
    connection.set_tenant(alpha)

    with django_assert_num_queries(1):
        assert search_path().startswith("alpha")


def test_a_new_connection_gets_its_search_path_set(committed_db):
    alpha = tenant("alpha")
    connection.set_tenant(alpha)
    search_path()
    connection.close()
    connection.set_tenant(alpha)

    assert search_path().startswith("alpha")


@pytest.mark.django_db
def test_after_cloning_a_schema_queries_run_in_the_schema_selected_next():
    from tenants.schemas import schema_clone_from_template

    schema_clone_from_template("search_path_clone_probe")  # inside the test's transaction: rolled back
    connection.set_schema_to_public()

    assert search_path() == "public"
    connection.set_tenant(tenant("beta"))
    assert search_path().startswith("beta")
