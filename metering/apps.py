from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MeteringConfig(AppConfig):
    name = "metering"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Tasks are registered in every process, not only in workers: code that enqueues a task by name (to
        # avoid importing tasks.py back) then finds it here, and it runs eagerly where Celery is set to.
        from metering import tasks  # noqa: F401
        from metering.signals import partitions_after_migrate

        post_migrate.connect(partitions_after_migrate, sender=self, dispatch_uid="metering_partitions")
