"""TENANT_LIMIT_SET_CALLS sends `SET search_path` once per schema switch. A rollback undoes a SET made inside
the transaction; these prove the next query still runs in the schema the code selected, never the previous
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
    alpha = tenant("alpha")
    connection.set_tenant(alpha)
    with django_assert_num_queries(3):  # SET search_path, then two queries without it
        search_path()
        search_path()
