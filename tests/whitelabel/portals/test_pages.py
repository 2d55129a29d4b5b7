"""The reseller's public pages on its own domain (landing, pricing, signup), where they do not exist (404), and
the signup that creates a client workspace under the agency and signs its owner in on the client's host."""

from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from affiliates.models import Referral
from billing.models import Plan
from billing.services import tenant_plan_assign
from tenants.models import Tenant
from tests.support.agencies import signed_in
from tests.support.brand_css import linked_brand_css
from tests.support.clock import NOW
from tests.support.factories import PlanFactory
from tests.support.portals import brand_make, client_make, domain_records_publish, portal_domain_make, reseller_make
from whitelabel.domains.services import domain_check, domain_claim
from whitelabel.models import ResellerPrice

HOST = "portal.northwind.example"
PASSWORD = "Quiet-harbour-lantern-71"


@pytest.fixture
def reseller(db):
    return reseller_make("northwind")


@pytest.fixture
def portal(dns_zone, reseller, django_capture_on_commit_callbacks):
    brand_make(reseller, landing_title="Grow with Northwind", landing_text="AI services for <b>your</b> shop.")
    portal_domain_make(dns_zone, reseller, HOST, capture=django_capture_on_commit_callbacks)
    return Client(HTTP_HOST=HOST)


def signup_data(**changes):
    return {"name": "Bloom Florists", "slug": "bloom", "email": "owner@bloom.test", "password": PASSWORD, **changes}


def test_the_landing_shows_the_resellers_brand_and_text_escaped(portal):
    response = portal.get("/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Grow with Northwind" in page and "Northwind Digital" in page
    assert "AI services for &lt;b&gt;your&lt;/b&gt; shop." in page
    assert "--accent: #0b5d1e" in linked_brand_css(portal, page)


def test_pricing_shows_the_resellers_prices_and_never_tollgates(portal, reseller):
    plan = Plan.objects.get(code="starter")
    ResellerPrice.objects.create(agency=reseller, plan=plan, interval="month", currency="USD",
                                 amount=Decimal("79.00"), created_at=timezone.now(), updated_at=timezone.now())

    page = portal.get("/pricing/").content.decode()

    assert "79.00 USD" in page and "Starter" in page
    assert "Most popular" not in page and "Tollgate — AI services" not in page


def test_pricing_without_prices_says_so(portal):
    assert 'data-testid="portal-no-prices"' in portal.get("/pricing/").content.decode()


@pytest.mark.parametrize("path", ["/pricing/", "/signup/"])
def test_the_pages_do_not_exist_on_the_agencys_platform_subdomain(portal, reseller, path):
    assert Client(HTTP_HOST=f"{reseller.slug}.localhost").get(path).status_code == 404


def test_the_agencys_platform_subdomain_root_is_its_workspace_as_before(portal, reseller):
    response = Client(HTTP_HOST=f"{reseller.slug}.localhost").get("/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("path", ["/pricing/", "/signup/"])
def test_the_pages_do_not_exist_on_the_domain_of_an_agency_not_in_reseller_mode(
        db, dns_zone, django_capture_on_commit_callbacks, path):
    referral_agency = reseller_make("referral-agency", reseller=False)
    portal_domain_make(dns_zone, referral_agency, "portal.referral.example", capture=django_capture_on_commit_callbacks)

    assert Client(HTTP_HOST="portal.referral.example").get(path).status_code == 404


@pytest.mark.parametrize("path", ["/pricing/", "/signup/"])
def test_the_pages_do_not_exist_on_a_business_tenants_custom_domain(dns_zone, tenant_alpha, path,
                                                                    django_capture_on_commit_callbacks):
    tenant_plan_assign(tenant=tenant_alpha, plan=Plan.objects.get(code="white-label"))
    domain = domain_claim(tenant=tenant_alpha, hostname="app.alpha.example", now=NOW)
    domain_records_publish(dns_zone, domain)
    domain_check(domain=domain, now=NOW)

    assert Client(HTTP_HOST="app.alpha.example").get(path).status_code == 404


def test_signup_creates_a_client_under_the_agency_and_signs_its_owner_in_on_its_host(portal, reseller):
    response = portal.post("/signup/", signup_data())

    client = Tenant.objects.get(slug="bloom")
    assert client.parent_agency == reseller
    assert Referral.objects.get(tenant=client).affiliate.tenant == reseller
    link = urlsplit(response["Location"])
    assert response.status_code == 302 and link.hostname == f"bloom.{HOST}"
    on_client_host = Client(HTTP_HOST=link.hostname)
    assert on_client_host.get(link.path).status_code == 302
    dashboard = on_client_host.get("/")
    assert dashboard.status_code == 200 and "Northwind Digital" in dashboard.content.decode()
    with schema_context(client.schema_name):
        assert User.objects.get(email="owner@bloom.test").check_password(PASSWORD)


def test_signup_sends_no_invitation_the_owner_chose_a_password(portal, mailoutbox):
    portal.post("/signup/", signup_data())

    assert not [mail for mail in mailoutbox if "invit" in mail.subject.lower()]


def test_signup_shows_field_errors(portal):
    response = portal.post("/signup/", signup_data(slug="No Spaces!", password="short"))

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"slug", "password"}
    assert not Tenant.objects.filter(name="Bloom Florists").exists()


def test_signup_with_a_taken_slug_says_so_under_the_field(portal, reseller):
    client_make(reseller, "bloom")

    response = portal.post("/signup/", signup_data())

    assert response.status_code == 400
    assert response.context["form"].errors["slug"] == ["This name is already taken."]


def test_signup_is_limited_like_the_public_signup(portal, settings):
    settings.SIGNUP_RATE_LIMIT = "1/h"
    address = {"REMOTE_ADDR": "198.51.100.77"}
    portal.post("/signup/", signup_data(slug="bad slug"), **address)

    response = portal.post("/signup/", signup_data(), **address)

    assert response.status_code == 429
    assert not Tenant.objects.filter(slug="bloom").exists()


def test_the_agencys_staff_signed_in_on_the_domain_keep_their_dashboard_at_the_root(portal, reseller):
    staff = signed_in(reseller)
    staff.defaults["HTTP_HOST"] = HOST

    response = staff.get("/")

    assert response.status_code == 200 and response.resolver_match.url_name == "dashboard"


def test_the_staff_login_on_the_domain_is_branded(portal):
    page = portal.get("/accounts/login/").content.decode()

    assert "Northwind Digital" in page and 'data-testid="auth-brand"' in page


def test_the_portal_is_gone_when_the_agency_leaves_white_label(portal, reseller):
    tenant_plan_assign(tenant=reseller, plan=PlanFactory(client_tenants=True))

    assert Client(HTTP_HOST=HOST).get("/pricing/").status_code == 404


def test_the_pages_work_on_a_demo_domain_under_base_domain(dns_zone, reseller, settings,
                                                          django_capture_on_commit_callbacks):
    settings.CUSTOM_DOMAIN_DEMO_HOSTNAMES = ["portal.northwind.localhost"]
    portal_domain_make(dns_zone, reseller, "portal.northwind.localhost", capture=django_capture_on_commit_callbacks)
    client_make(reseller, "bloom")

    assert Client(HTTP_HOST="portal.northwind.localhost").get("/signup/").status_code == 200
    assert Client(HTTP_HOST="bloom.portal.northwind.localhost").get("/accounts/login/").status_code == 200
