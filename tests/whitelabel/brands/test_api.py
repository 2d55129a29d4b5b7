"""GET/PUT /api/v1/branding: the brand as JSON, refusals in the API's error shape, scopes."""

import base64
import io
import json

import pytest
from PIL import Image

from accounts.models import Role
from tests.support.agencies import agency_make, client_make
from tests.support.api import api_client, api_key_for
from tests.support.staff import staff_client

pytestmark = pytest.mark.django_db


def put(client, body):
    return client.put("/api/v1/branding", json.dumps(body), content_type="application/json")


def png_base64() -> str:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), "#1f4b99").save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


@pytest.fixture
def alpha_api(alpha_white_label):
    return api_client(alpha_white_label, api_key_for(alpha_white_label))


def test_a_tenant_without_a_brand_gets_404(tenant_alpha):
    response = api_client(tenant_alpha, api_key_for(tenant_alpha)).get("/api/v1/branding")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_put_without_the_white_label_entitlement_gets_402(tenant_alpha):
    response = put(api_client(tenant_alpha, api_key_for(tenant_alpha)), {"display_name": "Alpha"})

    assert response.status_code == 402
    assert response.json()["error"]["code"] == "plan_upgrade_required"


def test_a_put_saves_the_brand_and_a_get_answers_it(alpha_api):
    saved = put(alpha_api, {"display_name": "Alpha Studio", "primary_colour": "#1f4b99", "logo": png_base64()})

    answered = alpha_api.get("/api/v1/branding")

    assert saved.status_code == 200
    assert answered.json() == saved.json()
    body = answered.json()
    assert (body["display_name"], body["version"], body["inherited"]) == ("Alpha Studio", 1, False)
    assert body["logo_url"].startswith("/media/brands/logos/alpha-")


def test_hostile_css_gets_400_with_the_reason(alpha_api):
    response = put(alpha_api, {"display_name": "Alpha", "custom_css": "a { background: url(//evil.test/x) }"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "brand_css_invalid"
    assert "another host" in error["details"]["reason"]


def test_colours_below_aa_get_400_with_the_ratio(alpha_api):
    response = put(alpha_api, {"display_name": "Alpha", "primary_colour": "#777777"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "brand_contrast_insufficient"
    assert "4.48:1" in error["message"]


def test_an_image_that_is_not_base64_gets_400(alpha_api):
    response = put(alpha_api, {"display_name": "Alpha", "logo": "not base64!"})

    assert response.status_code == 400


def test_an_unknown_field_gets_400(alpha_api):
    response = put(alpha_api, {"display_name": "Alpha", "version": 7})

    assert response.status_code == 400


def test_a_read_only_key_cannot_put(alpha_white_label):
    client = api_client(alpha_white_label, api_key_for(alpha_white_label, scopes=["read"]))

    response = put(client, {"display_name": "Alpha"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"


def test_a_client_workspace_gets_its_agency_brand_marked_inherited():
    agency = agency_make("northwind", plan_code="white-label")
    client = client_make(agency, "bloom")
    put(api_client(agency, api_key_for(agency)), {"display_name": "Northwind"})

    response = api_client(client, api_key_for(client)).get("/api/v1/branding")

    assert (response.json()["display_name"], response.json()["inherited"]) == ("Northwind", True)


@pytest.mark.parametrize(("role", "expected"), [(Role.ADMIN, 200), (Role.MEMBER, 403), (Role.BILLING, 403)])
def test_only_staff_who_manage_settings_can_put_from_a_session(alpha_white_label, role, expected):
    response = put(staff_client(alpha_white_label, role), {"display_name": "Alpha"})

    assert response.status_code == expected
