"""Billing's refusals. Each is a DomainError, so the API answers them in the one error shape."""

from config.errors import DomainError


class BillingError(DomainError):
    code = "billing_error"
    status = 400


class PriceUnavailable(BillingError):
    code = "price_unavailable"


class SubscriptionStateInvalid(BillingError):
    """The subscription is not in a state that allows this change."""

    code = "subscription_state_invalid"
    status = 409


class PlanLimitsExceeded(BillingError):
    """The target plan allows less than the tenant uses now (details say what must change first)."""

    code = "plan_limits_exceeded"
    status = 409


class InvoiceStateInvalid(BillingError):
    code = "invoice_state_invalid"
    status = 409


class CreditNoteTooLarge(BillingError):
    code = "credit_note_too_large"
    status = 409


class CouponInvalid(BillingError):
    code = "coupon_invalid"
