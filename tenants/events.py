"""What tenants tell the apps above them (which tenants never import): `tenant_signed_up`, sent once a public
signup created a workspace and its transaction committed, with `tenant`, `owner_email`, `cookies` (the signup
request's), `ip` (the client address) and `promotion_code` (what the visitor typed, or ""). The affiliate program
attributes the signup on it. Sent robustly: a receiver that fails is logged and never undoes or fails the
signup."""

import logging

from django.db import transaction
from django.dispatch import Signal

from tenants.models import Tenant

logger = logging.getLogger(__name__)

tenant_signed_up = Signal()


def tenant_signed_up_send_on_commit(*, tenant: Tenant, owner_email: str, cookies: dict[str, str], ip: str,
                                    promotion_code: str) -> None:
    def send() -> None:
        results = tenant_signed_up.send_robust(sender=Tenant, tenant=tenant, owner_email=owner_email,
                                               cookies=dict(cookies), ip=ip, promotion_code=promotion_code)
        for receiver, result in results:
            if isinstance(result, Exception):
                logger.error("tenant_signed_up_receiver_failed tenant_id=%s receiver=%s error=%s", tenant.pk,
                             getattr(receiver, "__qualname__", receiver), type(result).__name__,
                             exc_info=result)

    transaction.on_commit(send)
