"""Stripe as the payment rail: the one Stripe boundary (stripe_api), collecting invoices (services), settling
what Stripe tells us through dj-stripe's webhooks (webhooks), and the task that charges finalised invoices."""
