from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from metering.ai_services import model_prices_forget
from metering.models import ModelPrice
from metering.services import usage_partitions_ensure


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
    """The gateway reads prices from a per-process copy: this process sees the change at once, others within
    metering.ai_services.MODEL_PRICES_TTL_S."""
    model_prices_forget()
