from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MeteringConfig(AppConfig):
    name = "metering"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from metering.signals import partitions_after_migrate

        post_migrate.connect(partitions_after_migrate, sender=self, dispatch_uid="metering_partitions")
