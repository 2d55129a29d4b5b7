from django.apps import AppConfig


class WhitelabelConfig(AppConfig):
    name = "whitelabel"
    verbose_name = "White-label"
    default_auto_field = "django.db.models.BigAutoField"
