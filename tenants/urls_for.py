from django.conf import settings

from tenants.models import Tenant
from tenants.selectors import tenant_primary_domain
from tenants.slugs import primary_domain_for


def tenant_url(tenant: Tenant, path: str = "/") -> str:
    """Absolute URL on the tenant's primary host, with the deployment's scheme and port."""
    host = tenant_primary_domain(tenant) or primary_domain_for(tenant.slug)
    port = f":{settings.SITE_PORT}" if settings.SITE_PORT else ""
    return f"{settings.SITE_SCHEME}://{host}{port}{path}"


def public_url(path: str = "/") -> str:
    port = f":{settings.SITE_PORT}" if settings.SITE_PORT else ""
    return f"{settings.SITE_SCHEME}://{settings.BASE_DOMAIN}{port}{path}"
