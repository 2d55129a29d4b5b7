from django.apps import AppConfig


class CreatorsConfig(AppConfig):
    """What tenants use the platform for: the creator monetization coach and content generation (tenant schemas)."""

    name = "creators"
    verbose_name = "Creators"
