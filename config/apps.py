"""App configs that belong to the project rather than to one app."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class OpsAdminConfig(AdminConfig):
    """django.contrib.admin with Tollgate's ops site (config.admin_site.OpsAdminSite) as `admin.site`."""

    default_site = "config.admin_site.OpsAdminSite"

    def ready(self) -> None:
        super().ready()  # autodiscovers every app's admin module
        from config.admin_site import webhook_trigger_reprocess_offer

        webhook_trigger_reprocess_offer(self.module.site)
