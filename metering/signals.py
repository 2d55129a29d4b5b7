from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from billing.models import TenantPlan
from config.lookup_cache import lookup_forget
from metering.gateway.services import model_prices_key
from metering.models import ModelPrice
from metering.usage.services import usage_partitions_ensure
from metering.wallets.services import wallet_allowance_grant_now
from tenants.models import Tenant


def partitions_after_migrate(sender, **kwargs) -> None:
    """Create the usage partitions around today whenever the public schema is migrated."""
    if connection.schema_name != "public":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('metering_usageevent')")
        if cursor.fetchone()[0] is None:
            return
    usage_partitions_ensure()


@receiver(post_save, sender=ModelPrice)
@receiver(post_delete, sender=ModelPrice)
def model_price_changed(sender, **kwargs) -> None:
    """The gateway reads the active prices through the lookup cache: every process reloads them."""
    lookup_forget(model_prices_key())


@receiver(post_save, sender=Tenant)
def tenant_created(sender, instance: Tenant, created: bool, **kwargs) -> None:
    """A new workspace gets this month's allowance at once, not from the next day's monthly job: once
    provisioning has committed (its own transaction stays as short as it was; if the grant fails, the monthly
    job grants it later)."""
    if created and instance.schema_name != settings.PUBLIC_SCHEMA_NAME:
        transaction.on_commit(partial(wallet_allowance_grant_now, tenant=instance), robust=True)


@receiver(post_save, sender=TenantPlan)
def tenant_plan_saved(sender, instance: TenantPlan, **kwargs) -> None:
    """A plan change tops this month's allowance up to the new plan's, once per month and plan (see
    wallet_monthly_grant), whichever path set the plan."""
    transaction.on_commit(partial(wallet_allowance_grant_now, tenant=instance.tenant), robust=True)
