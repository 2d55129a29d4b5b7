"""The one domain error base: every app's errors are DomainErrors, and each carries what the API answers."""

import pytest

from accounts.exceptions import TeamError
from config.errors import DomainError
from metering.gateway.client import AiError, UpstreamOverloaded
from metering.limits.quotas import QuotaExceeded
from metering.wallets.services import WalletError
from tenants.exceptions import TenantError


class SeatsExhausted(DomainError):
    code = "seats_exhausted"
    status = 409
    retry_after_s = 60


@pytest.mark.parametrize("error_class", [TenantError, TeamError, WalletError, AiError, QuotaExceeded])
def test_every_apps_errors_subclass_the_one_domain_error(error_class):
    assert issubclass(error_class, DomainError)


def test_a_domain_error_keeps_its_message_field_and_details():
    error = SeatsExhausted("No seat is left.", field="email", details={"seats": 3})

    assert (error.message, str(error), error.field, error.details) == (
        "No seat is left.", "No seat is left.", "email", {"seats": 3})


def test_a_domain_errors_retry_after_given_at_raise_overrides_its_class_default():
    assert SeatsExhausted("Wait.").retry_after_s == 60
    assert SeatsExhausted("Wait.", retry_after_s=5).retry_after_s == 5


def test_an_ai_error_tells_when_to_retry_in_its_details():
    assert UpstreamOverloaded("Busy.").details == {"retry_after_s": 10}
    assert AiError("Broken.").details == {}
