"""A client tenant gets its hosts under its agency's reseller domains, and loses any under another's, in the same
transaction: when its primary host is created (provisioning; a host made earlier would become the primary, as
django-tenants makes a tenant's first domain), and whenever it is saved again (ops moved it to another agency)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from tenants.models import Domain, Tenant
from whitelabel.portals.services import client_hosts_sync_for_client


@receiver(post_save, sender=Tenant, dispatch_uid="whitelabel.portals.client_saved")
def client_saved(sender, instance: Tenant, created: bool, raw: bool = False, **kwargs) -> None:
    if not created and not raw:
        client_hosts_sync_for_client(client=instance)


@receiver(post_save, sender=Domain, dispatch_uid="whitelabel.portals.client_routed")
def client_routed(sender, instance: Domain, created: bool, raw: bool = False, **kwargs) -> None:
    if created and instance.is_primary and not raw:
        client_hosts_sync_for_client(client=instance.tenant)
