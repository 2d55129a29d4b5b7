"""Ops admin of brands: listed with their tenant and colours; a brand's page previews an email under it and
links its sign-in page; nothing is added or saved there (brand_save's checks would be bypassed)."""

import html

import pytest

from tests.support.clock import NOW
from tests.support.factories import OpsUserFactory
from whitelabel.brands.services import brand_save

pytestmark = pytest.mark.django_db

BRANDS = "/admin/whitelabel/brand/"


@pytest.fixture
def admin_client(public_client):
    public_client.force_login(OpsUserFactory(is_superuser=True))
    return public_client


@pytest.fixture
def brand(alpha_white_label):
    return brand_save(tenant=alpha_white_label, now=NOW, data={
        "display_name": "Northwind <b>Digital</b>", "primary_colour": "#0b5e1f", "legal_footer": "Northwind Ltd"})


def test_the_list_shows_each_brand_with_its_tenant_and_colours(admin_client, brand):
    page = admin_client.get(BRANDS).content.decode()

    assert "Northwind &lt;b&gt;Digital&lt;/b&gt;" in page and "alpha" in page and "#0b5e1f" in page


def test_a_brands_page_previews_an_email_under_the_brand_escaped(admin_client, brand):
    page = admin_client.get(f"{BRANDS}{brand.pk}/change/").content.decode()

    assert "<iframe" in page and "sandbox" in page
    preview = html.unescape(page.split('srcdoc="', 1)[1].split('"', 1)[0])
    assert "Northwind Ltd" in preview and "<b>Digital</b>" not in preview
    assert "/accounts/login/" in page


def test_ops_can_neither_add_nor_save_a_brand(admin_client, brand):
    assert admin_client.get(f"{BRANDS}add/").status_code == 403
    page = admin_client.get(f"{BRANDS}{brand.pk}/change/").content.decode()
    assert 'name="_save"' not in page
