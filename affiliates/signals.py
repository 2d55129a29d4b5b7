"""Keeps the cached program and referral-code routes true: saving the program or an affiliate (a service, the
admin, a shell) forgets the cached copies in every process."""

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from affiliates.models import Affiliate, AffiliateProgram
from affiliates.program import program_key
from affiliates.selectors import affiliate_route_key
from config.lookup_cache import lookup_forget


@receiver(post_save, sender=AffiliateProgram)
@receiver(post_delete, sender=AffiliateProgram)
def program_changed(sender, **kwargs) -> None:
    lookup_forget(program_key())


@receiver(pre_save, sender=Affiliate)
def affiliate_saving(sender, instance: Affiliate, **kwargs) -> None:
    # A changed code must also stop routing under the old one.
    instance._code_before = (Affiliate.objects.filter(pk=instance.pk).values_list("code", flat=True).first()
                             if instance.pk else None)


@receiver(post_save, sender=Affiliate)
def affiliate_saved(sender, instance: Affiliate, **kwargs) -> None:
    codes = {instance.code, getattr(instance, "_code_before", None)} - {None}
    lookup_forget(*[affiliate_route_key(code) for code in codes])


@receiver(post_delete, sender=Affiliate)
def affiliate_deleted(sender, instance: Affiliate, **kwargs) -> None:
    lookup_forget(affiliate_route_key(instance.code))
