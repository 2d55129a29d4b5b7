"""The self-referral rule's record of an affiliate's own IP addresses and devices is written on the public host
only: a tenant's user signing in on its workspace host is never taken for the affiliate whose public account has
the same user id (users live in each schema, so their ids repeat across schemas)."""

import pytest
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.models import User
from affiliates.models import AffiliateFingerprint
from tests.support.affiliate_program import affiliate_make
from tests.support.tenants import STANDARD_PASSWORD, client_for, owner_of

pytestmark = pytest.mark.django_db


def test_a_tenant_owner_signing_in_on_its_host_records_nothing_for_the_affiliate_with_its_user_id(tenant_alpha):
    owner = owner_of(tenant_alpha)
    with schema_context(get_public_schema_name()):
        twin = User.objects.create_user(id=owner.pk, email="twin@partners.test", password="pw-twin-account-1")
    affiliate = affiliate_make("twin-aaaaa", user=twin, email=twin.email)
    client = client_for(tenant_alpha)

    client.post("/accounts/login/", {"login": tenant_alpha.owner_email, "password": STANDARD_PASSWORD})

    assert "_auth_user_id" in client.session
    assert not AffiliateFingerprint.objects.filter(affiliate=affiliate).exists()
