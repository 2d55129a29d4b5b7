from django.apps import AppConfig


class AffiliatesConfig(AppConfig):
    name = "affiliates"
    verbose_name = "Affiliates and agencies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Receivers connect themselves on import; the beat jobs' tasks are registered in every process.
        from affiliates import attribution, lifecycle, signals  # noqa: F401
        from affiliates import tasks as click_tasks  # noqa: F401
        from affiliates.commissions import receivers as commission_receivers  # noqa: F401
        from affiliates.commissions import tasks as commission_tasks  # noqa: F401
        from affiliates.fraud import sightings  # noqa: F401
        from affiliates.payouts import tasks as payout_tasks  # noqa: F401
        from affiliates.referral_rewards import receivers as referral_reward_receivers  # noqa: F401
        from affiliates.referral_rewards import tasks as referral_reward_tasks  # noqa: F401
