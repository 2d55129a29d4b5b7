"""A brand's stylesheet (/branding/brand.css): its colours and custom CSS, linked by the brand's pages under a
version that changes with it, cached for a year under that version and revalidated under any other."""

import re

import pytest
from django.utils import timezone

from billing.models import Plan
from billing.services import tenant_plan_assign
from tests.support.tenants import client_for
from whitelabel.brands.services import brand_save

pytestmark = pytest.mark.django_db

CSS = ".sidebar-tenant-name { letter-spacing: 0.02em; }"
LINK = re.compile(r'href="/branding/brand\.css\?v=([0-9a-f]{16})"')


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def alpha_brand(tenant_alpha):
    tenant_plan_assign(tenant=tenant_alpha, plan=Plan.objects.get(code="white-label"))
    return brand_save(tenant=tenant_alpha, data={"display_name": "Alpha Brand", "primary_colour": "#0b5d1e",
                                                 "custom_css": CSS}, now=timezone.now())


def version_linked(client) -> str:
    return LINK.search(client.get("/accounts/login/").content.decode()).group(1)


def test_the_stylesheet_carries_the_brands_colours_and_its_custom_css(alpha_brand, tenant_alpha):
    on_alpha = client_for(tenant_alpha)

    response = on_alpha.get(f"/branding/brand.css?v={version_linked(on_alpha)}")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/css; charset=utf-8"
    assert "--accent: #0b5d1e" in response.content.decode() and CSS in response.content.decode()


def test_the_brands_pages_carry_no_inline_custom_css(alpha_brand, tenant_alpha):
    page = client_for(tenant_alpha).get("/accounts/login/").content.decode()

    assert CSS not in page and "--accent: #0b5d1e" not in page


def test_the_linked_version_is_cached_for_a_year(alpha_brand, tenant_alpha):
    on_alpha = client_for(tenant_alpha)

    response = on_alpha.get(f"/branding/brand.css?v={version_linked(on_alpha)}")

    assert response["Cache-Control"] == "public, max-age=31536000, immutable"


def test_an_outdated_version_gets_the_current_stylesheet_revalidated(alpha_brand, tenant_alpha):
    on_alpha = client_for(tenant_alpha)

    response = on_alpha.get("/branding/brand.css?v=0000000000000000")

    assert response["Cache-Control"] == "no-cache"
    assert CSS in response.content.decode()


def test_a_saved_change_links_a_new_version(alpha_brand, tenant_alpha):
    on_alpha = client_for(tenant_alpha)
    before = version_linked(on_alpha)

    brand_save(tenant=tenant_alpha, data={"custom_css": ".x { color: #111111; }"}, now=timezone.now())

    assert version_linked(on_alpha) != before


def test_a_host_without_a_brand_serves_no_stylesheet(tenant_alpha):
    on_alpha = client_for(tenant_alpha)

    assert on_alpha.get("/branding/brand.css").status_code == 404
    assert "/branding/brand.css" not in on_alpha.get("/accounts/login/").content.decode()
