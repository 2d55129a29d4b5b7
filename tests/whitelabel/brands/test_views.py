"""The Branding page: the form over brand_save, its refusals shown under their field, the plan's upsell, and the
live preview partial that shows the brand as typed without saving it."""

import html
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.models import Role
from tests.support.staff import staff_client
from whitelabel.brands.services import brand_save
from whitelabel.models import Brand

pytestmark = pytest.mark.django_db

PAGE = "/settings/branding/"
PREVIEW = "/settings/branding/preview/"


def form_data(**changes) -> dict:
    return {"display_name": "Alpha Studio", "primary_colour": "#1f4b99", "accent_colour": "#8a4b00",
            "custom_css": "", "support_url": "https://help.alpha.test/", "support_email": "help@alpha.test",
            "legal_footer": "Alpha Ltd, 1 Main St", "email_sender_name": "Alpha team",
            "email_sender_address": "hello@alpha.test", "invoice_header": "Alpha Ltd\nVAT GB123",
            "invoice_footer": "Thank you", "show_powered_by": "on", **changes}


def png_upload(name: str = "logo.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), "#1f4b99").save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def srcdoc(response) -> str:
    """The preview document as the iframe gets it (the attribute unescaped)."""
    return html.unescape(re.search(r'srcdoc="([^"]*)"', response.content.decode()).group(1))


@pytest.fixture
def owner(alpha_white_label):
    return staff_client(alpha_white_label, Role.OWNER)


def test_the_page_shows_the_form_with_the_saved_brand_and_its_preview(owner, alpha_white_label):
    brand_save(tenant=alpha_white_label, data={"display_name": "Alpha Studio"}, now=timezone.now())

    response = owner.get(PAGE)

    assert response.status_code == 200
    assert b'value="Alpha Studio"' in response.content
    assert b'type="color"' in response.content
    assert "Alpha Studio" in srcdoc(response)


def test_saving_the_form_saves_the_brand_with_its_logo(owner, alpha_white_label):
    response = owner.post(PAGE, {**form_data(), "logo": png_upload()})

    assert (response.status_code, response["Location"]) == (302, PAGE)
    brand = Brand.objects.get(tenant=alpha_white_label)
    assert (brand.display_name, brand.accent_colour, brand.invoice_header) == (
        "Alpha Studio", "#8a4b00", "Alpha Ltd\nVAT GB123")
    assert brand.logo.name.startswith("brands/logos/alpha-")


def test_removing_the_logo_clears_it(owner, alpha_white_label):
    owner.post(PAGE, {**form_data(), "logo": png_upload()})

    owner.post(PAGE, form_data(logo_remove="on"))

    assert not Brand.objects.get(tenant=alpha_white_label).logo


def test_unticking_powered_by_hides_it(owner, alpha_white_label):
    owner.post(PAGE, {key: value for key, value in form_data().items() if key != "show_powered_by"})

    assert Brand.objects.get(tenant=alpha_white_label).show_powered_by is False


def test_colours_below_aa_are_refused_under_the_colour_with_the_ratio(owner, alpha_white_label):
    response = owner.post(PAGE, form_data(primary_colour="#777777"))

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "4.48:1" in errors["primary_colour"][0]
    assert not Brand.objects.filter(tenant=alpha_white_label).exists()


def test_hostile_css_is_refused_under_the_css_with_its_reason(owner, alpha_white_label):
    response = owner.post(PAGE, form_data(custom_css="a { background: url(//evil.test/x) }"))

    assert response.status_code == 400
    assert "another host" in response.context["form"].errors["custom_css"][0]
    assert not Brand.objects.filter(tenant=alpha_white_label).exists()


def test_a_file_that_is_not_an_image_is_refused_under_the_logo(owner, alpha_white_label):
    upload = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png")

    response = owner.post(PAGE, {**form_data(), "logo": upload})

    assert response.status_code == 400
    assert response.context["form"].errors["logo"]


def test_a_plan_without_white_label_gets_the_upsell_not_the_form(tenant_alpha):
    response = staff_client(tenant_alpha, Role.OWNER).get(PAGE)

    assert response.status_code == 402
    assert b'data-testid="branding-upsell"' in response.content
    assert b"branding-form" not in response.content


def test_a_plan_without_white_label_cannot_post_a_brand(tenant_alpha):
    response = staff_client(tenant_alpha, Role.OWNER).post(PAGE, form_data())

    assert response.status_code == 402
    assert not Brand.objects.filter(tenant=tenant_alpha).exists()


def test_the_branding_link_shows_only_with_white_label(alpha_white_label, tenant_beta):
    entitled = staff_client(alpha_white_label, Role.OWNER).get("/settings/")
    not_entitled = staff_client(tenant_beta, Role.OWNER).get("/settings/")

    assert entitled.content.count(f'href="{PAGE}"'.encode()) == 2  # the sidebar and the Settings page
    assert f'href="{PAGE}"'.encode() not in not_entitled.content


def test_the_preview_shows_the_brand_as_typed_and_saves_nothing(owner, alpha_white_label):
    response = owner.post(PREVIEW, form_data(display_name="Typed Name", primary_colour="#0B5D1E",
                                             custom_css=".sidebar { border-right: 3px solid #0b5d1e; }"))

    assert response.status_code == 200
    document = srcdoc(response)
    assert "Typed Name" in document
    assert "background: #0b5d1e" in document
    assert "border-right: 3px solid #0b5d1e" in document
    assert 'sandbox=""' in response.content.decode()
    assert not Brand.objects.filter(tenant=alpha_white_label).exists()


def test_the_preview_shows_an_uploaded_logo_before_it_is_saved(owner, alpha_white_label):
    response = owner.post(PREVIEW, {**form_data(), "logo": png_upload()})

    assert 'src="data:image/png;base64,' in srcdoc(response)


def test_the_preview_leaves_out_hostile_css_and_says_why(owner):
    response = owner.post(PREVIEW, form_data(custom_css="a { background: url(//evil.test/x) }"))

    assert b"another host" in response.content
    assert "evil.test" not in srcdoc(response)


def test_the_preview_cannot_close_its_style_element(owner):
    response = owner.post(PREVIEW, form_data(custom_css='a::after { content: "</style><script>x()</script>"; }'))

    assert "</style><script>" not in srcdoc(response)


def test_the_preview_keeps_the_saved_colour_for_one_that_is_not_a_colour(owner):
    response = owner.post(PREVIEW, form_data(primary_colour="red"))

    assert b"is not a colour" in response.content
    assert "background: #1f4b99" in srcdoc(response)


def test_the_preview_needs_white_label_too(tenant_alpha):
    response = staff_client(tenant_alpha, Role.OWNER).post(PREVIEW, form_data())

    assert response.status_code == 402
