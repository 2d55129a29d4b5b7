"""Brands stay with their tenant: another tenant's key cannot read or change one, a tenant's own answer never
carries another's brand, and a reseller's clients wear their reseller's brand, never another reseller's."""

import json

import pytest
from django.utils import timezone

from billing.models import Plan
from billing.services import tenant_plan_assign
from tests.support.agencies import agency_make, client_make
from tests.support.api import api_client, api_key_for
from whitelabel.brands.selectors import brand_for
from whitelabel.brands.services import brand_save
from whitelabel.models import Brand

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha_brand(tenant_alpha, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    tenant_plan_assign(tenant=tenant_alpha, plan=Plan.objects.get(code="white-label"))
    return brand_save(tenant=tenant_alpha, data={"display_name": "Alpha Secret Brand"}, now=timezone.now())


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_a_key_of_tenant_a_is_refused_on_tenant_bs_branding(alpha_brand, tenant_alpha, tenant_beta, method):
    client = api_client(tenant_beta, api_key_for(tenant_alpha))

    response = client.generic(method, "/api/v1/branding", json.dumps({"display_name": "Hijacked"}),
                              content_type="application/json")

    assert response.status_code == 401
    assert Brand.objects.get(tenant=tenant_alpha).display_name == "Alpha Secret Brand"


def test_tenant_bs_branding_never_answers_tenant_as_brand(alpha_brand, tenant_beta):
    response = api_client(tenant_beta, api_key_for(tenant_beta)).get("/api/v1/branding")

    assert response.status_code == 404
    assert "Alpha Secret Brand" not in response.content.decode()


def test_tenant_bs_put_creates_nothing_on_tenant_as_brand(alpha_brand, tenant_alpha, tenant_beta):
    tenant_plan_assign(tenant=tenant_beta, plan=Plan.objects.get(code="white-label"))

    response = api_client(tenant_beta, api_key_for(tenant_beta)).put(
        "/api/v1/branding", json.dumps({"display_name": "Beta Brand"}), content_type="application/json")

    assert response.status_code == 200
    assert Brand.objects.get(tenant=tenant_alpha).display_name == "Alpha Secret Brand"
    assert Brand.objects.get(tenant=tenant_beta).display_name == "Beta Brand"


def test_a_resellers_clients_wear_their_resellers_brand_only(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    northwind, southwind = agency_make("northwind", plan_code="white-label"), agency_make("southwind",
                                                                                         plan_code="white-label")
    bloom, gale = client_make(northwind, "bloom"), client_make(southwind, "gale")
    brand_save(tenant=northwind, data={"display_name": "Northwind"}, now=timezone.now())
    brand_save(tenant=southwind, data={"display_name": "Southwind"}, now=timezone.now())

    assert brand_for(tenant=bloom).display_name == "Northwind"
    assert brand_for(tenant=gale).display_name == "Southwind"
    answered = api_client(bloom, api_key_for(bloom)).get("/api/v1/branding").json()
    assert answered["display_name"] == "Northwind"
