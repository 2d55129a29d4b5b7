import pytest
from django.core.management import call_command

from metering.models import UsageRollup, Wallet
from tenants.services import tenant_provision

pytestmark = pytest.mark.django_db


def test_the_demo_gets_a_month_of_usage_and_a_funded_wallet_once(db):
    acme = tenant_provision(name="Acme", slug="acme", owner_email="owner@acme.test", owner_password=None).tenant

    call_command("usage_demo_seed")
    rollups = UsageRollup.objects.filter(tenant=acme).count()
    balance = Wallet.objects.get(tenant=acme).balance
    call_command("usage_demo_seed")

    assert rollups > 30
    assert UsageRollup.objects.filter(tenant=acme).count() == rollups
    assert 0 < Wallet.objects.get(tenant=acme).balance == balance < 1_000_000
