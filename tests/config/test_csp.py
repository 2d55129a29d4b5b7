"""The Content-Security-Policy of HTML pages (config/csp.py): everything from the host itself, no inline script,
inline <style> only with the request's nonce, no framing by others; the ops admin and the API are left alone."""

import re

import pytest
from django.test import RequestFactory, override_settings
from django.utils import timezone

from accounts.models import Role
from billing.models import Plan
from billing.services import tenant_plan_assign
from config.csp import HEADER, policy_for
from tests.support.staff import staff_client
from tests.support.tenants import client_for
from whitelabel.brands.services import brand_save

pytestmark = pytest.mark.django_db

REQUIRED = ["default-src 'self'", "img-src 'self' data:", "font-src 'self' data:", "connect-src 'self'",
            "frame-ancestors 'self'", "base-uri 'self'", "object-src 'none'", "script-src 'self'"]


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def alpha_brand(tenant_alpha):
    tenant_plan_assign(tenant=tenant_alpha, plan=Plan.objects.get(code="white-label"))
    return brand_save(tenant=tenant_alpha, data={"display_name": "Alpha Brand", "custom_css": ".x { color: #111111; }"},
                      now=timezone.now())


def directives(response) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in response[HEADER].split(";"))


def test_a_branded_page_carries_the_policy(alpha_brand, tenant_alpha):
    response = client_for(tenant_alpha).get("/accounts/login/")

    for directive in REQUIRED:
        assert directive in response[HEADER]
    assert directives(response)["form-action"].startswith("'self'")


def test_styles_come_from_the_host_or_carry_the_nonce_never_unsafe_inline(alpha_brand, tenant_alpha):
    response = client_for(tenant_alpha).get("/accounts/login/")

    style_src = directives(response)["style-src"]
    assert style_src.startswith("'self'") and "'unsafe-inline'" not in style_src
    assert re.fullmatch(r"'self' 'nonce-[\w-]+'", style_src)


def test_scripts_come_from_the_host_alone(tenant_alpha):
    response = client_for(tenant_alpha).get("/accounts/login/")

    assert directives(response)["script-src"] == "'self'"


def test_every_style_block_on_a_page_carries_the_requests_nonce(tenant_alpha):
    response = staff_client(tenant_alpha, Role.OWNER).get("/")

    nonce = re.search(r"'nonce-([\w-]+)'", response[HEADER]).group(1)
    for tag in re.findall(r"<style[^>]*>", response.content.decode()):
        assert f'nonce="{nonce}"' in tag


def test_each_request_gets_its_own_nonce(tenant_alpha):
    alpha = client_for(tenant_alpha)

    first, second = (directives(alpha.get("/accounts/login/"))["style-src"] for _ in range(2))

    assert first != second


def test_the_public_sites_pages_carry_the_policy(db):
    response = client_for(None).get("/")

    assert "default-src 'self'" in response[HEADER]


def test_the_branding_page_alone_allows_inline_styles_for_its_preview_frames(alpha_brand, tenant_alpha):
    owner = staff_client(tenant_alpha, Role.OWNER)

    branding, dashboard = owner.get("/settings/branding/"), owner.get("/")

    assert "'unsafe-inline'" in directives(branding)["style-src"]
    assert directives(branding)["script-src"] == "'self'"
    assert "'unsafe-inline'" not in dashboard[HEADER]


def test_the_api_and_the_ops_admin_are_left_alone(tenant_alpha):
    assert HEADER not in client_for(tenant_alpha).get("/api/v1/usage")
    assert HEADER not in client_for(None).get("/admin/login/")


def test_forms_may_lead_to_the_platforms_hosts_and_stripes_hosted_pages():
    request = RequestFactory().get("/", HTTP_HOST="portal.northwind.example")
    request.csp_nonce = "n"
    with override_settings(SITE_SCHEME="https", SITE_PORT="", BASE_DOMAIN="tollgate.example",
                           STRIPE_API_BASE="https://api.stripe.com", ALLOWED_HOSTS=["*"]):
        form_action = dict(part.split(" ", 1) for part in policy_for(request).split("; "))["form-action"]

    assert form_action.split() == [
        "'self'", "https://tollgate.example", "https://*.tollgate.example", "https://*.portal.northwind.example",
        "https://checkout.stripe.com", "https://billing.stripe.com"]


def test_static_files_on_a_cdn_are_allowed_by_origin():
    request = RequestFactory().get("/")
    request.csp_nonce = "n"
    with override_settings(STATIC_URL="https://cdn.example/static/", MEDIA_URL="https://media.example/m/"):
        policy = dict(part.split(" ", 1) for part in policy_for(request).split("; "))

    assert policy["script-src"] == "'self' https://cdn.example"
    assert policy["img-src"] == "'self' data: https://cdn.example https://media.example"



def test_the_500_page_styles_itself_with_its_policys_nonce(db, monkeypatch):
    from tenants import views_public

    monkeypatch.setattr(views_public, "public_price_list", lambda **kwargs: 1 / 0)
    visitor = client_for(None)
    visitor.raise_request_exception = False

    response = visitor.get("/pricing/")

    assert response.status_code == 500
    nonce = re.search(r"'nonce-([\w-]+)'", response[HEADER]).group(1)
    assert f'<style nonce="{nonce}">' in response.content.decode()
