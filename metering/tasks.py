"""Beat jobs of metering: thin wrappers over services."""

from celery import shared_task

from metering.services import event_keys_prune, usage_partitions_ensure
from metering.tracking import api_calls_flush


@shared_task(name="metering.api_calls_flush")
def api_calls_flush_task() -> int:
    return api_calls_flush()


@shared_task(name="metering.usage_partitions_ensure")
def usage_partitions_ensure_task() -> list[str]:
    return usage_partitions_ensure()


@shared_task(name="metering.event_keys_prune")
def event_keys_prune_task() -> int:
    return event_keys_prune()
