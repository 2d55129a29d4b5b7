"""A brand's stylesheet is served on its own hosts only: another tenant's host answers with its own brand's or
none, whatever version it is asked for, and the public host serves none."""

import pytest
from django.utils import timezone

from billing.models import Plan
from billing.services import tenant_plan_assign
from tests.support.tenants import client_for
from whitelabel.brands.services import brand_save

pytestmark = pytest.mark.django_db

ALPHA_CSS = ".alpha-secret-rule { color: #123456; }"
BETA_CSS = ".beta-own-rule { color: #654321; }"


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def alpha_brand(tenant_alpha):
    tenant_plan_assign(tenant=tenant_alpha, plan=Plan.objects.get(code="white-label"))
    return brand_save(tenant=tenant_alpha, data={"display_name": "Alpha", "custom_css": ALPHA_CSS},
                      now=timezone.now())


def alpha_version(tenant_alpha) -> str:
    page = client_for(tenant_alpha).get("/accounts/login/").content.decode()
    return page.split("/branding/brand.css?v=", 1)[1].split('"', 1)[0]


def test_a_host_without_a_brand_never_serves_anothers_stylesheet(alpha_brand, tenant_alpha, tenant_beta):
    response = client_for(tenant_beta).get(f"/branding/brand.css?v={alpha_version(tenant_alpha)}")

    assert response.status_code == 404
    assert ALPHA_CSS.encode() not in response.content


def test_a_branded_host_serves_its_own_stylesheet_under_anothers_version(alpha_brand, tenant_alpha, tenant_beta):
    tenant_plan_assign(tenant=tenant_beta, plan=Plan.objects.get(code="white-label"))
    brand_save(tenant=tenant_beta, data={"display_name": "Beta", "custom_css": BETA_CSS}, now=timezone.now())

    response = client_for(tenant_beta).get(f"/branding/brand.css?v={alpha_version(tenant_alpha)}")

    assert BETA_CSS in response.content.decode() and ALPHA_CSS not in response.content.decode()
    assert response["Cache-Control"] == "no-cache"


def test_the_public_host_serves_no_brand_stylesheet(alpha_brand):
    response = client_for(None).get("/branding/brand.css")

    assert response.status_code == 404
    assert ALPHA_CSS.encode() not in response.content


def test_anothers_pages_link_no_stylesheet_and_carry_none_of_its_css(alpha_brand, tenant_beta):
    page = client_for(tenant_beta).get("/accounts/login/").content.decode()

    assert "/branding/brand.css" not in page and "alpha-secret-rule" not in page
