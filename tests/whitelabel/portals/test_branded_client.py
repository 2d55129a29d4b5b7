"""What a reseller's client sees on its host: the agency's brand on the sign-in, password reset and workspace
pages, host-only cookies, and "Powered by Tollgate" unless the brand hides it on a plan that may."""

import pytest
from django.test import Client

from billing.services import tenant_plan_assign
from tests.support.agencies import signed_in
from tests.support.brand_css import linked_brand_css
from tests.support.factories import PlanFactory
from tests.support.portals import brand_make, client_make, portal_domain_make, reseller_make
from tests.support.tenants import STANDARD_PASSWORD
from whitelabel.brands.exceptions import BrandError

HOST = "portal.northwind.example"
POWERED = b'data-testid="powered-by"'


@pytest.fixture
def reseller(db):
    return reseller_make("northwind")


@pytest.fixture
def bloom(dns_zone, reseller, django_capture_on_commit_callbacks):
    brand_make(reseller, support_email="help@northwind.example")
    portal_domain_make(dns_zone, reseller, HOST, capture=django_capture_on_commit_callbacks)
    return client_make(reseller, "bloom")


@pytest.fixture
def on_bloom(bloom):
    return Client(HTTP_HOST=f"bloom.{HOST}")


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/password/reset/"])
def test_the_sign_in_pages_on_a_client_host_wear_the_agencys_brand(on_bloom, path):
    response = on_bloom.get(path)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Northwind Digital" in page and "--accent: #0b5d1e" in linked_brand_css(on_bloom, page)
    assert "help@northwind.example" in page
    assert 'data-testid="auth-brand"' in page


def test_the_workspace_on_a_client_host_wears_the_agencys_brand(bloom):
    owner = signed_in(bloom)

    page = owner.get("/", HTTP_HOST=f"bloom.{HOST}").content.decode()

    assert 'data-testid="sidebar-brand"' in page and "Northwind Digital" in page
    assert "--accent: #0b5d1e" in linked_brand_css(owner, page, HTTP_HOST=f"bloom.{HOST}")


def test_a_not_found_page_on_a_client_host_names_the_brand_not_tollgate(on_bloom):
    response = on_bloom.get("/no-such-page/")

    assert response.status_code == 404
    assert b"Tollgate" not in response.content.split(b"</title>")[0]


def test_cookies_set_on_a_client_host_are_host_only(bloom, on_bloom):
    response = on_bloom.post("/accounts/login/", {"login": bloom.owner_email, "password": "wrong-password-1"})
    on_bloom.get("/accounts/login/")

    cookies = {**response.cookies, **on_bloom.cookies}
    assert cookies and all(not morsel["domain"] for morsel in cookies.values())


def test_powered_by_shows_while_the_brand_shows_it(on_bloom):
    assert POWERED in on_bloom.get("/accounts/login/").content


def test_hiding_powered_by_is_refused_on_a_plan_without_the_flag(reseller):
    tenant_plan_assign(tenant=reseller, plan=PlanFactory(white_label=True, client_tenants=True,
                                                         remove_powered_by=False))

    with pytest.raises(BrandError) as refused:
        brand_make(reseller, show_powered_by=False)

    assert refused.value.field == "show_powered_by"


def test_a_brand_hiding_it_on_the_white_label_plan_hides_it_on_its_clients_pages(reseller, on_bloom):
    brand_make(reseller, show_powered_by=False)

    assert POWERED not in on_bloom.get("/accounts/login/").content


def test_a_brand_hidden_earlier_shows_it_again_once_the_plan_loses_the_flag(reseller, on_bloom):
    brand_make(reseller, show_powered_by=False)

    tenant_plan_assign(tenant=reseller, plan=PlanFactory(white_label=True, client_tenants=True,
                                                         remove_powered_by=False))

    assert POWERED in on_bloom.get("/accounts/login/").content


def test_the_client_owner_signs_in_on_its_host_with_its_password(bloom, on_bloom):
    from django_tenants.utils import schema_context

    from accounts.models import User

    with schema_context(bloom.schema_name):
        owner = User.objects.get(email=bloom.owner_email)
        owner.is_active = True
        owner.set_password(STANDARD_PASSWORD)
        owner.save()

    response = on_bloom.post("/accounts/login/", {"login": bloom.owner_email, "password": STANDARD_PASSWORD})

    assert response.status_code == 302
    assert on_bloom.get("/").status_code == 200


def test_the_error_page_on_a_client_host_names_the_agencys_brand(bloom, rf):
    from whitelabel.brands.errors import server_error

    request = rf.get("/", HTTP_HOST=f"bloom.{HOST}")
    request.tenant = bloom

    page = server_error(request).content

    assert b"Northwind Digital" in page and b"Tollgate" not in page


def test_a_failing_page_on_the_resellers_domain_answers_the_branded_error_page(bloom, monkeypatch):
    from whitelabel.portals import views

    monkeypatch.setattr(views, "portal_price_list", lambda **kwargs: 1 / 0)
    visitor = Client(HTTP_HOST=HOST, raise_request_exception=False)

    response = visitor.get("/pricing/")

    assert response.status_code == 500
    assert b"Northwind Digital" in response.content and b"Tollgate" not in response.content
