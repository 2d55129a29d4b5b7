"""The Branding page and its preview stay with their tenant: another tenant's session is sent to the login page
(and changes nothing), a member without the settings permission is refused, and a tenant's page never shows
another tenant's brand."""

import pytest
from django.utils import timezone

from accounts.models import Role
from billing.models import Plan
from billing.services import tenant_plan_assign
from tests.support.staff import staff_client
from tests.support.tenants import client_for
from whitelabel.brands.services import brand_save
from whitelabel.models import Brand

pytestmark = pytest.mark.django_db

PATHS = ["/settings/branding/", "/settings/branding/preview/"]
FORM = {"display_name": "Hijacked", "primary_colour": "#1f4b99", "accent_colour": "#8a4b00"}


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def white_label(tenant_alpha, tenant_beta):
    plan = Plan.objects.get(code="white-label")
    for tenant in (tenant_alpha, tenant_beta):
        tenant_plan_assign(tenant=tenant, plan=plan)


@pytest.fixture
def beta_brand(white_label, tenant_beta):
    return brand_save(tenant=tenant_beta, data={"display_name": "Beta Secret Brand"}, now=timezone.now())


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_alpha_session_on_betas_host_is_sent_to_login(alpha_owner_client, beta_brand, tenant_beta, path, method):
    on_beta = client_for(tenant_beta)
    on_beta.cookies = alpha_owner_client.cookies

    response = getattr(on_beta, method)(path, FORM)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert Brand.objects.get(tenant=tenant_beta).display_name == "Beta Secret Brand"


@pytest.mark.parametrize("role", [Role.MEMBER, Role.BILLING])
@pytest.mark.parametrize("path", PATHS)
def test_staff_without_the_settings_permission_are_refused(white_label, tenant_alpha, role, path):
    client = staff_client(tenant_alpha, role)

    assert client.get(path).status_code == 403
    assert client.post(path, FORM).status_code == 403
    assert not Brand.objects.filter(tenant=tenant_alpha).exists()


def test_staff_without_the_settings_permission_see_no_branding_link(white_label, tenant_alpha):
    response = staff_client(tenant_alpha, Role.MEMBER).get("/")

    assert b"/settings/branding/" not in response.content


def test_alphas_page_and_preview_never_show_betas_brand(alpha_owner_client, beta_brand):
    page = alpha_owner_client.get("/settings/branding/")
    preview = alpha_owner_client.post("/settings/branding/preview/", {})

    assert page.status_code == preview.status_code == 200
    assert b"Beta Secret Brand" not in page.content
    assert b"Beta Secret Brand" not in preview.content
