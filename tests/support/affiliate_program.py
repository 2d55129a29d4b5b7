"""The affiliate program as a visitor meets it: affiliates with and without accounts, a browser on the public host,
its referral clicks flushed from the buffer, and a signup through the public form."""

from __future__ import annotations

from datetime import datetime

from django.test import Client
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.models import User
from affiliates.clicks import clicks_flush
from affiliates.models import Affiliate
from tenants.events import tenant_signed_up
from tenants.models import Tenant

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
AFFILIATE_PASSWORD = "pw-affiliate-program-1"


def affiliate_make(code: str, *, with_account: bool = False, at: datetime | None = None, **fields) -> Affiliate:
    """An active affiliate of kind affiliate (with its public-schema user when `with_account`)."""
    email = fields.pop("email", f"{code}@partners.test")
    user = fields.pop("user", None)
    if with_account:
        with schema_context(get_public_schema_name()):
            user = User.objects.create_user(email=email, password=AFFILIATE_PASSWORD)
    return Affiliate.objects.create(kind=Affiliate.Kind.AFFILIATE, code=code, name=code.title(), email=email,
                                    user=user, created_at=at or timezone.now(), **fields)


def browser(*, ip: str = "198.51.100.7") -> Client:
    """A visitor's browser on the public host: it keeps its cookies between requests."""
    return Client(HTTP_HOST="localhost", HTTP_USER_AGENT=BROWSER, REMOTE_ADDR=ip)


def click(client: Client, code: str, *, flush: bool = True, **query) -> object:
    response = client.get(f"/r/{code}", query)
    if flush:
        clicks_flush()
    return response


def signed_up(client: Client, tenant: Tenant, *, promotion_code: str = "", ip: str = "198.51.100.7") -> None:
    """What the signup form tells the program once `tenant` exists, from the visitor's browser (its cookies)."""
    tenant_signed_up.send(sender=Tenant, tenant=tenant, owner_email=tenant.owner_email, ip=ip,
                          cookies={name: morsel.value for name, morsel in client.cookies.items()},
                          promotion_code=promotion_code)


def signup(client: Client, slug: str, *, promotion_code: str = "") -> object:
    """The public signup form, posted (a new workspace: slow). Run it inside django_capture_on_commit_callbacks
    (execute=True) for its after-commit signal to be sent."""
    return client.post("/signup/", {
        "name": slug.title(), "slug": slug, "type": "business", "email": f"founder@{slug}.test",
        "password": "a-long-and-unusual-pass-42", "promotion_code": promotion_code,
    })
