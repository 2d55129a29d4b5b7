"""Coach tests run inside tenant alpha's schema, as its owner (the coach is per staff user)."""

import pytest
from django_tenants.utils import schema_context

from tests.support.tenants import owner_of


@pytest.fixture
def creator(tenant_alpha):
    """Alpha's owner, with alpha's schema active for the whole test."""
    user = owner_of(tenant_alpha)
    with schema_context(tenant_alpha.schema_name):
        yield user
