import pytest
from allauth.account.models import EmailAddress
from django_tenants.utils import schema_context

from accounts.selectors import email_primary_unverified
from tests.support.tenants import owner_of

pytestmark = pytest.mark.django_db


def test_an_unconfirmed_primary_address_is_found(tenant_alpha):
    owner = owner_of(tenant_alpha)
    with schema_context(tenant_alpha.schema_name):
        EmailAddress.objects.filter(user=owner).delete()
        address = EmailAddress.objects.create(user=owner, email=owner.email, primary=True, verified=False)

        assert email_primary_unverified(user=owner) == address


def test_a_confirmed_primary_address_needs_no_confirmation(tenant_alpha):
    owner = owner_of(tenant_alpha)
    with schema_context(tenant_alpha.schema_name):
        EmailAddress.objects.filter(user=owner).delete()
        EmailAddress.objects.create(user=owner, email=owner.email, primary=True, verified=True)

        assert email_primary_unverified(user=owner) is None
