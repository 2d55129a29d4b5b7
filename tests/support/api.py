"""Helpers for API tests: keys and clients bound to a tenant's host."""

from django.test import Client

from tenants.models import Tenant
from tenants.services import api_key_create
from tests.support.tenants import host_of

ALL_SCOPES = ["read", "write", "usage:write", "ai", "billing", "coach", "agency"]


def api_key_for(tenant: Tenant, *, scopes: list[str] | None = None, name: str = "test key") -> str:
    return api_key_create(tenant=tenant, name=name, scopes=scopes or ALL_SCOPES, created_by="tests").secret


def api_client(tenant: Tenant, secret: str | None = None) -> Client:
    """A client on the tenant's host that sends the key (if any) as a Bearer token."""
    headers = {"HTTP_HOST": host_of(tenant)}
    if secret:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return Client(**headers)
