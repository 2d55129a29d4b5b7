from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from billing import signals  # noqa: F401  (connects the receivers)
        # Registered in every process: services enqueue billing.email_send by name (see metering.apps).
        from billing import tasks  # noqa: F401
