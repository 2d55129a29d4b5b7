from django.apps import AppConfig


class CreatorsConfig(AppConfig):
    """What tenants use the platform for: the creator monetization coach and content generation (tenant schemas)."""

    name = "creators"
    verbose_name = "Creators"

    def ready(self) -> None:
        # A playbook file that breaks the format stops the process at startup (PlaybookInvalid names the file and
        # every problem), not the first creator who opens it.
        from creators.playbooks import playbooks_loaded

        playbooks_loaded()
