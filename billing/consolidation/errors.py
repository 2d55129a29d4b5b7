"""Reseller mode's refusals (DomainErrors, answered in the API's one error shape)."""

from billing.errors import BillingError


class BilledThroughPayer(BillingError):
    """The tenant is billed through its reseller: what it asked for would be paid to Tollgate by the tenant
    itself (a token pack by card or by transfer), which reseller mode never does."""

    code = "billed_through_payer"
    status = 409


class ConsolidatedBillingInvalid(BillingError):
    """The arrangement asked for cannot be (a tenant paying for itself, a loop of payers, a discount outside
    0-100 %)."""

    code = "consolidated_billing_invalid"
    status = 409
