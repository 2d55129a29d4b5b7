"""Refusals of the reseller services; config/api/errors.py maps them for the API, pages show their message."""

from config.errors import DomainError


class ResellerError(DomainError):
    code = "reseller_error"


class NotAReseller(ResellerError):
    """The workspace is not an agency in reseller mode (ops choose the mode): it does not bill its clients."""

    code = "not_a_reseller"
    status = 403


class ResellerPriceInvalid(ResellerError):
    """A price that cannot be set as asked: an unknown plan or interval, a negative or malformed amount."""

    code = "reseller_price_invalid"


class ResellerPriceCurrencyUnavailable(ResellerError):
    """Tollgate has no price for the plan in this currency and interval: a reseller price is in a currency the
    plan is sold in, since wholesale is a share of that price (no conversion is done)."""

    code = "reseller_price_currency_unavailable"


class ResellerPriceBelowWholesale(ResellerError):
    """Below what Tollgate charges the agency for the plan (details: the wholesale figure)."""

    code = "reseller_price_below_wholesale"


class ResellerSettingsInvalid(ResellerError):
    code = "reseller_settings_invalid"


class ResellerInvoiceNotFound(ResellerError):
    """No invoice of this workspace has this number: answered like one that does not exist, so nothing leaks."""

    code = "not_found"
    status = 404


class ResellerInvoiceStateInvalid(ResellerError):
    """Only an open invoice can be marked paid or void."""

    code = "reseller_invoice_state_invalid"
    status = 409
