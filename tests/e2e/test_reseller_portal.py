"""A reseller's portal in a real browser, on a custom domain: the agency's domain (verified through the real
resolver against the local DNS server, its wildcard too) shows the branded landing and signup; the new client's
owner lands signed in on `bloom-<id>.<domain>` under the agency's brand, signs out, and signs in again on the
branded login page of its host; no page raises a Content-Security-Policy violation. Chromium maps the domain to
the live server (--host-resolver-rules), as a reseller's DNS would. The data is made before the browser starts:
no ORM calls while it runs."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from django.apps import apps
from django.test import override_settings

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DEFAULT_TIMEOUT_MS, csp_violations_watch
from tests.support.clock import NOW
from tests.support.dns import dns_zone
from tests.support.factories import PASSWORD
from tests.support.portals import brand_make, domain_records_publish, reseller_make, wildcard_publish
from tests.support.tenants import tenant_purge

__all__ = ["dns_zone"]
pytestmark = pytest.mark.e2e

OWNER_PASSWORD = "Amber-kettle-orchard-52"
AGENCY_PASSWORD = PASSWORD  # the agency was provisioned by the tenant factory


@pytest.fixture
def reseller_portal(committed_live_server, dns_zone, settings) -> Iterator[dict]:
    """An agency in reseller mode on the White-Label plan, branded, with its custom domain and wildcard verified;
    everything it and its clients committed is removed afterwards (clients before the agency they point to)."""
    from tenants.models import Tenant
    from whitelabel.domains.services import domain_check, domain_claim

    run = uuid.uuid4().hex[:6]
    host = f"portal.nw{run}.example"
    settings.CUSTOM_DOMAIN_TARGET = "domains.localhost"
    settings.CUSTOM_DOMAIN_ON_DEMAND_TLS = True
    settings.SITE_SCHEME = "http"
    agency = reseller_make(f"nw{run}")
    brand_make(agency, landing_title="Grow with Northwind", landing_text="AI services for your shop, set up for you.",
               support_email="help@northwind.example")
    domain = domain_claim(tenant=agency, hostname=host, now=NOW)
    domain_records_publish(dns_zone, domain)
    wildcard_publish(dns_zone, domain)
    domain_check(domain=domain, now=NOW)  # committed: the wildcard check runs after it, and the domain routes
    try:
        yield {"host": host, "port": committed_live_server.port, "slug": f"bloom-{run}",
               "agency_email": agency.owner_email}
    finally:
        clients = list(Tenant.objects.filter(parent_agency=agency))
        consolidated = _model("billing", "ConsolidatedBilling")
        if consolidated is not None:
            consolidated.objects.filter(payer=agency).delete()
        for client in clients:
            tenant_purge(client)
        tenant_purge(agency)


def _model(app_label: str, name: str):
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


@pytest.fixture
def portal_page(reseller_portal, artifacts_dir):
    """A page in chromium that resolves the reseller's domain and everything under it to the live server."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"chromium is not installed ({CHROMIUM} is missing)")
        pytest.skip("chromium is not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    host = reseller_portal["host"]
    rules = f"--host-resolver-rules=MAP {host} 127.0.0.1, MAP *.{host} 127.0.0.1"
    with override_settings(SIGNUP_RATE_LIMIT="10000/h"), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=[*CHROMIUM_ARGS, rules])
        try:
            contexts, watches = [], []

            def new_page():
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                context.set_default_timeout(DEFAULT_TIMEOUT_MS)
                watches.append(csp_violations_watch(context))
                contexts.append(context)
                return context.new_page()

            yield new_page
            for context in contexts:
                context.close()
        finally:
            browser.close()
    violations = [violation for watch in watches for violation in watch]
    assert not violations, f"Content-Security-Policy violations: {violations}"


def test_a_client_signs_up_on_the_resellers_domain_and_works_under_its_brand(reseller_portal, portal_page,
                                                                             artifacts_dir):
    page, host, port, slug = (portal_page(), reseller_portal["host"], reseller_portal["port"], reseller_portal["slug"])
    portal = f"http://{host}:{port}"
    client_host = f"http://{slug}.{host}:{port}"

    # --- The reseller's landing and signup, under its brand -------------------------------------------------------
    page.goto(f"{portal}/")
    assert page.get_by_test_id("portal-landing-title").inner_text() == "Grow with Northwind"
    assert page.get_by_test_id("portal-brand").inner_text().strip() == "Northwind Digital"
    assert page.locator(".button-primary").first.evaluate(
        "el => getComputedStyle(el).backgroundColor") == "rgb(11, 93, 30)"
    assert "Tollgate" not in page.title()
    page.screenshot(path=artifacts_dir / "e2e-reseller-portal-landing.png", full_page=True)
    page.get_by_role("link", name="Create your workspace").click()
    page.wait_for_url(f"{portal}/signup/")
    page.fill('input[name="name"]', "Bloom Florists")
    page.fill('input[name="slug"]', slug)
    page.fill('input[name="email"]', f"owner@{slug}.test")
    page.fill('input[name="password"]', OWNER_PASSWORD)
    page.screenshot(path=artifacts_dir / "e2e-reseller-portal-signup.png", full_page=True)
    page.get_by_role("button", name="Create workspace").click()

    # --- Signed in on its own host under the reseller's domain, in the agency's brand ------------------------------
    page.wait_for_url(f"{client_host}/")
    assert page.get_by_test_id("sidebar-brand").inner_text().strip() == "Northwind Digital"
    assert page.locator(".sidebar-tenant-name").inner_text() == "Bloom Florists"
    page.screenshot(path=artifacts_dir / "e2e-reseller-portal-workspace.png", full_page=True)

    # --- Signed out, then in again on the branded login page of its host ------------------------------------------
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{client_host}/accounts/login/")
    assert page.get_by_test_id("auth-brand").inner_text().strip() == "Northwind Digital"
    assert page.get_by_text("help@northwind.example").count() == 1
    page.screenshot(path=artifacts_dir / "e2e-reseller-portal-login.png", full_page=True)
    page.fill('input[name="login"]', f"owner@{slug}.test")
    page.fill('input[name="password"]', OWNER_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{client_host}/")
    assert page.get_by_test_id("sidebar-brand").count() == 1


def test_the_agencys_staff_sign_in_on_its_domain_and_see_the_portal_settings(reseller_portal, portal_page,
                                                                           artifacts_dir):
    page, host, port = portal_page(), reseller_portal["host"], reseller_portal["port"]
    portal = f"http://{host}:{port}"

    page.goto(f"{portal}/accounts/login/")
    assert page.get_by_test_id("auth-brand").inner_text().strip() == "Northwind Digital"
    page.fill('input[name="login"]', reseller_portal["agency_email"])
    page.fill('input[name="password"]', AGENCY_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{portal}/")
    assert page.locator(".sidebar-nav a.active").inner_text() == "Dashboard"

    page.locator('.sidebar-nav a[href="/settings/portal/"]').click()
    page.wait_for_url(f"{portal}/settings/portal/")
    row = page.get_by_test_id("portal-domain")
    assert row.get_attribute("data-hostname") == host
    assert "Verified" in page.get_by_test_id("wildcard-state").inner_text()
    page.screenshot(path=artifacts_dir / "e2e-reseller-portal-settings.png", full_page=True)
