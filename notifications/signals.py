"""Receivers: a person who joins a tenant's staff is welcomed in the bell."""

from django.db import connection
from django.db.models.signals import post_save
from django.dispatch import receiver
from django_tenants.utils import get_public_schema_name

from accounts.models import User
from notifications.services import welcome_notify
from tenants.models import Tenant


@receiver(post_save, sender=User, dispatch_uid="notifications_welcome")
def staff_member_welcome(sender, instance: User, created: bool, raw: bool = False, **kwargs) -> None:
    # Staff exist only in a tenant's schema (ops accounts, in public, have no role and no welcome).
    if not created or raw or not instance.role or connection.schema_name == get_public_schema_name():
        return
    tenant = Tenant.objects.filter(schema_name=connection.schema_name).first()
    if tenant is not None:
        welcome_notify(tenant=tenant, user=instance)
