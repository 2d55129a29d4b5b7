"""brand_save and brand_for: the entitlement, every check before anything is kept, versions, images in the
storage, and which brand a tenant shows (its own, its agency's, none) through the lookup cache."""

import io

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from billing.models import Plan
from billing.services import tenant_plan_assign
from tests.support.agencies import agency_make, client_make
from whitelabel.brands.exceptions import (
    BrandContrastInsufficient,
    BrandCssInvalid,
    BrandImageInvalid,
    WhiteLabelNotInPlan,
)
from whitelabel.brands.selectors import brand_for
from whitelabel.brands.services import BrandInvalid, brand_save
from whitelabel.models import Brand

pytestmark = pytest.mark.django_db


def png(colour="#1f4b99", size=(40, 20)) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    out.seek(0)
    return out


def save(tenant, **data):
    return brand_save(tenant=tenant, data=data, now=timezone.now())


def test_a_tenant_whose_plan_lacks_white_label_is_refused_with_402(tenant_alpha):
    with pytest.raises(WhiteLabelNotInPlan) as refused:
        save(tenant_alpha, display_name="Alpha")

    assert (refused.value.code, refused.value.status) == ("plan_upgrade_required", 402)
    assert not Brand.objects.filter(tenant=tenant_alpha).exists()


def test_the_first_save_creates_the_brand_at_version_1(alpha_white_label):
    brand = save(alpha_white_label, display_name="Alpha Studio", primary_colour="#1F4B99")

    assert (brand.display_name, brand.primary_colour, brand.version) == ("Alpha Studio", "#1f4b99", 1)


def test_a_later_save_keeps_the_fields_left_out_and_raises_the_version(alpha_white_label):
    save(alpha_white_label, display_name="Alpha Studio", support_email="help@alpha.test")

    brand = save(alpha_white_label, legal_footer="Alpha Ltd")

    assert (brand.display_name, brand.support_email, brand.legal_footer) == ("Alpha Studio", "help@alpha.test",
                                                                             "Alpha Ltd")
    assert brand.version == 2


@pytest.mark.parametrize(("data", "error"), [
    ({"custom_css": "@import 'https://evil.test/x.css';"}, BrandCssInvalid),
    ({"primary_colour": "#777777"}, BrandContrastInsufficient),
    ({"support_email": "not an email"}, BrandInvalid),
    ({"display_name": ""}, BrandInvalid),
    ({"primary_colour": "red"}, BrandInvalid),
    ({"version": 99}, BrandInvalid),
])
def test_a_refused_save_keeps_nothing(alpha_white_label, data, error):
    save(alpha_white_label, display_name="Alpha Studio")

    with pytest.raises(error):
        save(alpha_white_label, legal_footer="changed", **data)

    brand = Brand.objects.get(tenant=alpha_white_label)
    assert (brand.legal_footer, brand.version) == ("", 1)


def test_a_logo_is_stored_as_png_and_the_one_it_replaces_is_deleted(alpha_white_label,
                                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = save(alpha_white_label, display_name="Alpha", logo=png()).logo.name
    with django_capture_on_commit_callbacks(execute=True):
        second = save(alpha_white_label, logo=png("#e07a10")).logo.name

    assert second.startswith("brands/logos/alpha-") and second.endswith(".png")
    assert default_storage.exists(second)
    assert not default_storage.exists(first)


def test_a_logo_set_to_none_is_removed(alpha_white_label, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        name = save(alpha_white_label, display_name="Alpha", logo=png()).logo.name
        brand = save(alpha_white_label, logo=None)

    assert not brand.logo
    assert not default_storage.exists(name)


def test_a_save_refused_after_its_images_were_checked_stores_no_file(alpha_white_label, media_in_tmp):
    with pytest.raises(BrandContrastInsufficient):
        save(alpha_white_label, display_name="Alpha", logo=png(), primary_colour="#777777")

    assert not list(media_in_tmp.rglob("*.png"))


def test_an_unreadable_logo_is_refused_before_anything_is_saved(alpha_white_label):
    with pytest.raises(BrandImageInvalid):
        save(alpha_white_label, display_name="Alpha", logo=io.BytesIO(b"GIF89a not really"))

    assert not Brand.objects.filter(tenant=alpha_white_label).exists()


def test_a_tenant_without_a_brand_shows_none(tenant_alpha):
    assert brand_for(tenant=tenant_alpha) is None


def test_a_tenant_shows_its_own_brand_and_a_save_is_seen_at_once(alpha_white_label):
    save(alpha_white_label, display_name="Before")
    assert brand_for(tenant=alpha_white_label).display_name == "Before"

    save(alpha_white_label, display_name="After")

    assert brand_for(tenant=alpha_white_label).display_name == "After"


def test_a_downgraded_tenant_no_longer_shows_its_brand(alpha_white_label):
    save(alpha_white_label, display_name="Alpha")
    assert brand_for(tenant=alpha_white_label) is not None

    tenant_plan_assign(tenant=alpha_white_label, plan=Plan.objects.get(code="free"))

    assert brand_for(tenant=alpha_white_label) is None


def test_a_client_workspace_shows_its_agency_brand():
    agency = agency_make("northwind", plan_code="white-label")
    client = client_make(agency, "bloom")
    save(agency, display_name="Northwind")

    brand = brand_for(tenant=client)

    assert (brand.display_name, brand.tenant_id) == ("Northwind", agency.pk)


def test_a_client_with_its_own_entitled_brand_shows_its_own():
    agency = agency_make("northwind", plan_code="white-label")
    client = client_make(agency, "bloom")
    tenant_plan_assign(tenant=client, plan=Plan.objects.get(code="white-label"))
    save(agency, display_name="Northwind")
    save(client, display_name="Bloom")

    assert brand_for(tenant=client).display_name == "Bloom"


def test_a_client_of_an_agency_without_white_label_shows_no_brand():
    agency = agency_make("northwind", plan_code="white-label")
    client = client_make(agency, "bloom")
    save(agency, display_name="Northwind")
    tenant_plan_assign(tenant=agency, plan=Plan.objects.get(code="agency"))

    assert brand_for(tenant=client) is None
