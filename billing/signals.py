"""Keeps the cached entitlements (billing.selectors.entitlements_for) true: any change to a plan, its quotas or
a tenant's assignment forgets them, whether it comes from a service, the admin or a shell."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from billing.models import Plan, PlanQuota, TenantPlan
from billing.selectors import entitlements_key
from config.lookup_cache import lookup_forget


@receiver(post_save, sender=Plan)
@receiver(post_delete, sender=Plan)
@receiver(post_save, sender=PlanQuota)
@receiver(post_delete, sender=PlanQuota)
def plan_changed(sender, **kwargs) -> None:
    # Every tenant on the plan is affected, and there is no cheap list of them: every process reloads every
    # lookup once. Plans are edited rarely.
    lookup_forget()


@receiver(post_save, sender=TenantPlan)
@receiver(post_delete, sender=TenantPlan)
def tenant_plan_changed(sender, instance: TenantPlan, **kwargs) -> None:
    lookup_forget(entitlements_key(instance.tenant_id))
