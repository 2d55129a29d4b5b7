"""Tenant staff in each role: accounts made in the tenant's schema and clients signed in as them."""

from django.test import Client
from django_tenants.utils import schema_context

from accounts.models import Role, User
from tenants.models import Tenant
from tests.support.tenants import client_for, logged_in_client

STAFF_PASSWORD = "pw-staff-member-123"
ROLES = [Role.OWNER, Role.ADMIN, Role.MEMBER, Role.BILLING]


def staff_user_create(tenant: Tenant, role: str, email: str | None = None) -> User:
    with schema_context(tenant.schema_name):
        return User.objects.create_user(email or f"{role}@{tenant.slug}.test", STAFF_PASSWORD, role=role)


def staff_client(tenant: Tenant, role: str) -> Client:
    """A client on the tenant's host signed in with `role`: the standard owner, or a new account for the role."""
    if role == Role.OWNER:
        return logged_in_client(tenant)
    user = staff_user_create(tenant, role)
    client = client_for(tenant)
    with schema_context(tenant.schema_name):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client
