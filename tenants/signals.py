"""Keeps the cached request lookups (tenants.selectors) true: any change to a tenant, a domain or an API key
forgets the cached copies, whether it comes from a service, the admin or a shell."""

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from config.lookup_cache import lookup_forget
from tenants.models import ApiKey, Domain, Tenant
from tenants.selectors import api_key_lookup_key, tenant_route_key


def tenant_lookups_forget(tenant: Tenant) -> None:
    """Forget the cached routes to `tenant` (its status, settings...). Call it after a queryset update(), which
    sends no signal."""
    hostnames = Domain.objects.filter(tenant_id=tenant.pk).values_list("domain", flat=True)
    lookup_forget(*[tenant_route_key(hostname) for hostname in hostnames])


@receiver(post_save, sender=Tenant)
def tenant_saved(sender, instance: Tenant, **kwargs) -> None:
    tenant_lookups_forget(instance)


@receiver(pre_save, sender=Domain)
def domain_saving(sender, instance: Domain, **kwargs) -> None:
    # A renamed domain must also stop routing under its old name.
    instance._hostname_before = (Domain.objects.filter(pk=instance.pk).values_list("domain", flat=True).first()
                                 if instance.pk else None)


@receiver(post_save, sender=Domain)
def domain_saved(sender, instance: Domain, **kwargs) -> None:
    hostnames = {instance.domain, getattr(instance, "_hostname_before", None)} - {None}
    lookup_forget(*[tenant_route_key(hostname) for hostname in hostnames])


@receiver(post_delete, sender=Domain)
def domain_deleted(sender, instance: Domain, **kwargs) -> None:
    lookup_forget(tenant_route_key(instance.domain))


@receiver(post_save, sender=ApiKey)
@receiver(post_delete, sender=ApiKey)
def api_key_changed(sender, instance: ApiKey, **kwargs) -> None:
    lookup_forget(api_key_lookup_key(instance.prefix))
