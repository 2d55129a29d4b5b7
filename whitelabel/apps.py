from django.apps import AppConfig


class WhitelabelConfig(AppConfig):
    name = "whitelabel"
    verbose_name = "White-label"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Receivers of billing's events: connected by importing them.
        from whitelabel.resellers import receivers  # noqa: F401
        # Client hosts under a reseller's domain follow the client tenants (whitelabel.portals).
        from whitelabel.portals import receivers as portal_receivers  # noqa: F401
