"""Beat jobs of metering: thin wrappers over services."""

from celery import shared_task
from django.utils import timezone

from billing.selectors import entitlements_for
from metering.gateway.cost_alerts import ai_cost_alert_send
from metering.gateway.services import ai_reservations_sweep
from metering.limits.tracking import api_calls_flush
from metering.limits.upgrades import upgrade_suggestions_send
from metering.usage.services import event_keys_prune, usage_alert_record, usage_partitions_ensure
from metering.wallets.services import wallet_grants_expire, wallet_monthly_grants_run
from tenants.models import Tenant


@shared_task(name="metering.api_calls_flush")
def api_calls_flush_task() -> int:
    return api_calls_flush().processed


@shared_task(name="metering.usage_partitions_ensure")
def usage_partitions_ensure_task() -> list[str]:
    return usage_partitions_ensure()


@shared_task(name="metering.event_keys_prune")
def event_keys_prune_task() -> int:
    return event_keys_prune()


@shared_task(name="metering.usage_alert_send")
def usage_alert_send(*, tenant_id: int, meter_code: str, threshold: int) -> bool:
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    quota = entitlements_for(tenant=tenant).quota_for(meter_code) if tenant else None
    if quota is None:
        return False
    return usage_alert_record(tenant=tenant, meter_code=meter_code, threshold=threshold,
                              limit=quota.monthly_limit) is not None


@shared_task(name="metering.wallet_monthly_grants")
def wallet_monthly_grants_task() -> int:
    return wallet_monthly_grants_run(now=timezone.now())


@shared_task(name="metering.wallet_grants_expire")
def wallet_grants_expire_task() -> int:
    return wallet_grants_expire(now=timezone.now())


@shared_task(name="metering.ai_reservations_sweep")
def ai_reservations_sweep_task() -> int:
    return ai_reservations_sweep(now=timezone.now())


@shared_task(name="metering.upgrade_suggestions_send")
def upgrade_suggestions_send_task() -> int:
    return upgrade_suggestions_send(now=timezone.now())


@shared_task(name="metering.ai_cost_alert_send")
def ai_cost_alert_send_task() -> list[str]:
    return [day.isoformat() for day in ai_cost_alert_send(now=timezone.now())]
