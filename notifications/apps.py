from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The email task is enqueued by name (tasks.py imports the services), so it must be registered in every
        # process, and the welcome receiver must be connected.
        from notifications import signals, tasks  # noqa: F401
