from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from billing import signals  # noqa: F401  (connects the receivers)
        # Registered in every process: services enqueue billing.email_send by name (see metering.apps).
        from billing import tasks  # noqa: F401
        from billing.auto_recharge import receivers as auto_recharge_receivers  # noqa: F401  (recharges wallets)
        from billing.consolidation import receivers as consolidation_receivers  # noqa: F401  (settles clients)
        from billing.payments import dunning  # noqa: F401  (retries failed payments)
        from billing.payments import self_service  # noqa: F401  (renewals charged to a saved card)
        from billing.payments import signals as payment_signals  # noqa: F401  (charges finalised invoices)
        from billing.payments.stripe_api import sdk_configure
        from billing.payments.webhooks import webhook_receivers_connect

        sdk_configure()
        # After dj-stripe's own handlers (djstripe is ready first): ours read the objects they re-fetched.
        webhook_receivers_connect()
