"""Redis refusing connections or black-holed: the API keeps its documented behaviour (every endpoint answers as
usual, the AI gateway refuses with 503 ai_unavailable), staff and public pages render, nothing answers 500, and
a request waits for Redis at most once (config/redis_guard.py)."""

import copy
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django_redis.pool import ConnectionFactory
from django_tenants.utils import schema_context

from billing.models import Invoice, Plan, Price
from billing.selectors import entitlements_for
from billing.services import tenant_plan_assign
from billing.subscriptions.services import subscription_start
from config import redis_guard, urls_api
from creators.chat.actions import DetectedAction
from creators.chat.apply import actions_apply
from creators.models import CoachMessage, Project
from creators.services import project_update
from metering.limits import tracking
from tenants.models import ApiKey, Tenant
from tenants.services import api_key_create
from tests.support.agencies import agency_make, client_make
from tests.support.anthropic import PROMPT
from tests.support.api import ALL_SCOPES, api_client, api_key_for
from tests.support.content import content_document_make
from tests.support.creators import project_for
from tests.support.dns import dns_zone
from tests.support.factories import TenantFactory
from tests.support.portals import portal_domain_make
from tests.support.portals import reseller_make as portal_reseller_make
from tests.support.resellers import reseller_make
from tests.support.tenants import STANDARD_PASSWORD, client_for, logged_in_client, owner_of

pytestmark = [pytest.mark.django_db, pytest.mark.redis]
__all__ = ["dns_zone"]

# The endpoints that call the AI gateway, which fails closed without Redis (its concurrency slot lives there).
AI_ROUTES = {("POST", "/api/v1/ai/messages"), ("POST", "/api/v1/ai/code"), ("POST", "/api/v1/content"),
             ("POST", "/api/v1/coach/projects/<int:project_id>/messages")}
GET_QUERIES = {"/api/v1/usage": "?meter=api_calls&granularity=day"}
# A valid body for every POST endpoint: with Redis down they must still do their work, not merely not fail.
AGENCY_API_PREFIX = "/api/v1/clients"
AGENCY_PAGES = {"/clients/", "/settings/agency-access/", "/agency/prices/", "/agency/invoices/",
                "/billing/reseller-invoices/", "/settings/portal/"}
# Only a plan with white_label has a brand (402 elsewhere): test_branding_survives_redis_refusing_connections.
BRANDING_API, BRANDING_PAGE = "/api/v1/branding", "/settings/branding/"
BRAND_STYLESHEET = "/branding/brand.css"  # 404 on a workspace without a brand (config/csp.py)
# Only a reseller agency has a price list (403 elsewhere): test_reseller_prices_survive_redis_refusing_connections.
RESELLER_API = "/api/v1/reseller/prices"
# Custom domains too: test_custom_domains_survive_redis_refusing_connections.
DOMAINS_API, DOMAINS_PAGE = "/api/v1/domains", "/settings/domains/"
POST_BODIES = {
    "/api/v1/api-keys": {"name": "during the outage", "scopes": ["read"]},
    "/api/v1/api-keys/<int:api_key_id>/revoke": {},
    "/api/v1/events": {"events": [{"transaction_id": "outage-1", "meter": "compute_seconds",
                                   "properties": {"seconds": 3}}]},
    "/api/v1/ai/messages": PROMPT,
    "/api/v1/ai/code": {"description": "add two numbers", "language": "python"},
    "/api/v1/content": {"template": "report", "inputs": {"report_title": "Outage", "data": "a,b\n1,2"}},
    "/api/v1/content/<int:document_id>": {"title": "Edited during the outage"},
    # In route order, on the Pro subscription the test starts: upgrade, preview more seats, cancel at period end,
    # reactivate.
    "/api/v1/subscription": {"price": "business-month-usd"},
    "/api/v1/subscription/preview": {"quantity": 6},
    "/api/v1/subscription/cancel": {"at_period_end": True},
    "/api/v1/subscription/reactivate": {},
    # Off needs no saved card, so it is saved whatever the tenant's payment setup.
    "/api/v1/wallet/auto-recharge": {"enabled": False, "threshold": 10000, "pack": "tokens-1m"},
    "/api/v1/wallet/purchases": {"pack": "tokens-1m"},
    # The coach acts as the key's creator (the owner), who has a profile and a paused project (coach_ready):
    # starting another is allowed, and the project routes act on the paused one.
    "/api/v1/coach/profile": {"primary_platform": "youtube", "follower_count": 1000, "engagement_rate": "5",
                              "niche": "outages", "monthly_revenue_goal": {"amount": "100", "currency": "USD"},
                              "hours_per_week": 5},
    "/api/v1/coach/projects": {"playbook": "startup-kit"},
    "/api/v1/coach/projects/<int:project_id>": {"target_launch_date": "2030-01-01"},
    "/api/v1/coach/projects/<int:project_id>/tasks/<slug:task_id>/toggle": {},
    "/api/v1/coach/projects/<int:project_id>/decisions": {"category": "platform", "option": "discord"},
    "/api/v1/coach/projects/<int:project_id>/messages": {"content": "Is the coach there during the outage?"},
    # On the paused project's message (coach_actions): action 0 is confirmed, 1 dismissed, 2 (applied) undone.
    "/api/v1/coach/projects/<int:project_id>/messages/<int:message_id>/actions/<int:index>/confirm": {},
    "/api/v1/coach/projects/<int:project_id>/messages/<int:message_id>/actions/<int:index>/dismiss": {},
    "/api/v1/coach/projects/<int:project_id>/messages/<int:message_id>/actions/<int:index>/undo": {},
    RESELLER_API: {"prices": [{"plan": "starter", "interval": "month", "currency": "USD", "amount": "25.00"}]},
}


ACTION_INDEX = {"confirm": 0, "dismiss": 1, "undo": 2}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def cache_at(url: str, **options) -> Iterator[None]:
    """The default cache (the guard and its settings included) pointed at `url`."""
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["LOCATION"] = url
    caches["default"]["OPTIONS"].update(options)
    try:
        with override_settings(CACHES=caches):
            yield
    finally:
        pool = ConnectionFactory._pools.pop(url, None)
        if pool is not None:
            pool.disconnect()
        redis_guard.redis_guard_reset()
        tracking._pending.clear()  # the outage's calls, waiting for Redis: not for the next test


@contextmanager
def black_hole() -> Iterator[list[socket.socket]]:
    """A TCP listener that accepts connections and never answers; yields the connections it accepted."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:  # the listener was closed
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        with cache_at(f"redis://127.0.0.1:{listener.getsockname()[1]}/0", SOCKET_TIMEOUT=0.2):
            yield accepted
    finally:
        listener.close()
        thread.join(timeout=5)
        for connection in accepted:
            connection.close()


def api_routes() -> list[tuple[str, str]]:
    """(method, route) of every endpoint of config/urls_api.py and the URLconfs it includes, routes as written
    (`<int:...>` included)."""
    routes = []
    for route, view_class in _api_views(urls_api.urlpatterns, prefix="/api/"):
        for method in ("get", "post", "put", "patch", "delete"):
            if hasattr(view_class, method):
                routes.append((method.upper(), route))
    return routes


def _api_views(patterns, *, prefix: str) -> Iterator[tuple[str, type]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern.url_patterns, prefix=f"{prefix}{pattern.pattern}")
        else:
            yield f"{prefix}{pattern.pattern}", pattern.callback.view_class


def staff_page_paths() -> list[str]:
    """The main page of every staff section of a tenant host (patterns without parameters, outside the API
    and allauth, those of included URLconfs too)."""
    return _page_paths(get_resolver(settings.ROOT_URLCONF).url_patterns, prefix="/")


def _page_paths(patterns, *, prefix: str) -> list[str]:
    paths = []
    for pattern in patterns:
        route = f"{prefix}{pattern.pattern}"
        if "<" in route or route.startswith(("/api/", "/accounts/")):
            continue
        if isinstance(pattern, URLResolver):
            paths += _page_paths(pattern.url_patterns, prefix=route)
        elif isinstance(pattern, URLPattern):
            paths.append(route)
    return paths


@pytest.fixture
def limits_on(settings):
    settings.RATE_LIMITS_ENABLED = True


@pytest.fixture
def keys(funded):
    """The API key every call sends (all scopes) and one to revoke, created while Redis is up."""
    api_key_for(funded, name="to revoke")
    # Created by the owner, so that the coach's endpoints act as a person (creators.api).
    secret = api_key_create(tenant=funded, name="test key", scopes=ALL_SCOPES, created_by=funded.owner_email).secret
    return {"secret": secret, "revocable": ApiKey.objects.get(tenant=funded, name="to revoke")}


@pytest.fixture
def coach_ready(funded) -> int:
    """The owner's creator profile and a paused coach project; its id."""
    with schema_context(funded.schema_name):
        project = project_for(owner_of(funded))
        return project_update(project=project, status="paused", now=timezone.now()).pk


def call(client, method: str, route: str, *, revocable: ApiKey, invoice_number: str = "", document_id: int = 0,
         project_id: int = 0, message_id: int = 0):
    path = route.replace("<int:api_key_id>", str(revocable.pk)) if revocable else route
    path = path.replace("<str:number>", invoice_number).replace("<int:document_id>", str(document_id))
    path = path.replace("<int:project_id>", str(project_id)).replace("<slug:task_id>", "audience-survey")
    path = path.replace("<int:message_id>", str(message_id)).replace(
        "<int:index>", str(ACTION_INDEX.get(route.rsplit("/", 1)[-1], 0)))
    if method == "GET":
        return client.get(path + GET_QUERIES.get(route, ""))
    assert route in POST_BODIES, f"give {method} {route} a valid body in POST_BODIES"
    return client.generic(method, path, json.dumps(POST_BODIES[route]), content_type="application/json",
                          HTTP_IDEMPOTENCY_KEY=f"outage-{method}-{route}")


@pytest.fixture
def coach_actions(funded, coach_ready) -> int:
    """A message on the paused project with two actions to confirm and one applied (ACTION_INDEX); its id."""
    with schema_context(funded.schema_name):
        project = Project.objects.get(pk=coach_ready)
        message = CoachMessage.objects.create(project=project, user=project.user, role=CoachMessage.Role.USER,
                                              content="During the outage.", created_at=timezone.now())
        actions_apply(project=project, message=message, user=project.user, now=timezone.now(), actions=[
            DetectedAction(kind="decision", source="pattern", confidence=Decimal("0.5"), category="platform",
                           value="Circle", data={"option": "circle"}),
            DetectedAction(kind="task", source="pattern", confidence=Decimal("0.5"), task_id="define-promise"),
            DetectedAction(kind="task", source="pattern", confidence=Decimal("0.9"), task_id="create-space")])
        return message.pk


def test_every_api_endpoint_survives_redis_refusing_connections(funded, keys, upstream, limits_on, coach_ready,
                                                                 coach_actions, settings):
    settings.REDIS_CIRCUIT_OPEN_S = 0  # no circuit: every endpoint meets the refusal itself
    assert entitlements_for(tenant=funded).concurrent_ai_requests  # so the AI gateway needs its Redis slot
    client = api_client(funded, keys["secret"])
    routes = api_routes()
    assert len(routes) >= 13  # every endpoint the README lists, the schema and the docs
    subscription_start(tenant=funded, price=Price.objects.get(code="pro-month-usd"), actor="owner", trial=False,
                       now=timezone.now())
    invoice_number = Invoice.objects.get(tenant=funded).number
    document_id = content_document_make(funded).pk

    with cache_at(f"redis://127.0.0.1:{free_port()}/0"):
        answers = {(method, route): call(client, method, route, revocable=keys["revocable"],
                                         invoice_number=invoice_number, document_id=document_id,
                                         project_id=coach_ready, message_id=coach_actions)
                   for method, route in routes
                   if not route.startswith((AGENCY_API_PREFIX, BRANDING_API, DOMAINS_API, RESELLER_API))}

    for (method, route), response in answers.items():
        if (method, route) in AI_ROUTES:  # AI fails closed: its concurrency slot lives in Redis
            assert (response.status_code, response.json()["error"]["code"]) == (503, "ai_unavailable"), route
        else:
            assert 200 <= response.status_code < 300, (method, route, response.status_code, response.content[:300])
    assert not ApiKey.objects.get(pk=keys["revocable"].pk).is_active


def test_the_agency_api_survives_redis_refusing_connections(django_capture_on_commit_callbacks):
    # Its own test: only an agency's key reaches these routes (others get 403 not_an_agency).
    agency = agency_make()
    client_make(agency, "client-one")
    client = api_client(agency, api_key_for(agency, scopes=["agency"]))
    routes = [(method, route) for method, route in api_routes() if route.startswith(AGENCY_API_PREFIX)]
    assert len(routes) >= 4

    with cache_at(f"redis://127.0.0.1:{free_port()}/0"), django_capture_on_commit_callbacks(execute=True):
        created = client.post(AGENCY_API_PREFIX, {"name": "Outage Client", "slug": "outage-client",
                                                  "owner_email": "owner@outage-client.test"},
                              content_type="application/json", HTTP_IDEMPOTENCY_KEY="outage-client")
        answers = {route: client.get(route.replace("<slug:slug>", "client-one")).status_code
                   for method, route in routes if method == "GET"}

    assert created.status_code == 201, created.content[:300]
    assert Tenant.objects.filter(slug="outage-client", parent_agency=agency).exists()
    assert answers and set(answers.values()) == {200}, answers


def test_agency_pages_render_with_redis_refusing_connections():
    # An agency's Clients page, and its client's Agency access page (404 on workspaces that are neither).
    agency = agency_make()
    client = TenantFactory(slug="client-of-agency", name="Client Of Agency")
    client.parent_agency = agency
    client.save(update_fields=["parent_agency"])

    with cache_at(f"redis://127.0.0.1:{free_port()}/0"):
        answers = {"/clients/": logged_in_client(agency).get("/clients/").status_code,
                   "/settings/agency-access/": logged_in_client(client).get("/settings/agency-access/").status_code}

    assert answers == {"/clients/": 200, "/settings/agency-access/": 200}


def test_branding_survives_redis_refusing_connections(tenant_alpha):
    tenant_plan_assign(tenant=tenant_alpha, plan=Plan.objects.get(code="white-label"))
    client = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["read", "write"]))
    owner = logged_in_client(tenant_alpha)

    with cache_at(f"redis://127.0.0.1:{free_port()}/0"):
        saved = client.put(BRANDING_API, {"display_name": "Alpha during the outage"}, content_type="application/json")
        read = client.get(BRANDING_API)
        page = owner.get(BRANDING_PAGE)
        stylesheet = owner.get(BRAND_STYLESHEET)

    assert saved.status_code == 200, saved.content[:300]
    assert read.status_code == 200 and read.json()["display_name"] == "Alpha during the outage"
    assert page.status_code == 200 and stylesheet.status_code == 200


def test_custom_domains_survive_redis_refusing_connections(tenant_alpha):
    tenant_plan_assign(tenant=tenant_alpha, plan=Plan.objects.get(code="white-label"))
    client = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["read", "write"]))
    owner = logged_in_client(tenant_alpha)
    routes = [(method, route) for method, route in api_routes() if route.startswith(DOMAINS_API)]
    assert len(routes) == 5

    with cache_at(f"redis://127.0.0.1:{free_port()}/0"), override_settings(DNS_TIMEOUT_S=0.2):
        created = client.post(DOMAINS_API, {"hostname": "portal.outage.test"}, content_type="application/json",
                              HTTP_IDEMPOTENCY_KEY="outage-domain")
        path = f"{DOMAINS_API}/{created.json()['id']}"
        answers = {"list": client.get(DOMAINS_API), "get": client.get(path), "check": client.post(f"{path}/check"),
                   "page": owner.get(DOMAINS_PAGE), "delete": client.delete(path)}

    assert created.status_code == 201, created.content[:300]
    assert {name: response.status_code for name, response in answers.items()} == dict.fromkeys(answers, 200)


def test_reseller_prices_survive_redis_refusing_connections():
    agency = reseller_make()
    client = api_client(agency, api_key_for(agency, scopes=["agency"]))
    owner = logged_in_client(agency)

    with cache_at(f"redis://127.0.0.1:{free_port()}/0"):
        saved = call(client, "PUT", RESELLER_API, revocable=None)
        read = client.get(RESELLER_API)
        pages = {path: owner.get(path).status_code for path in ("/agency/prices/", "/agency/invoices/")}

    assert saved.status_code == 200, saved.content[:300]
    assert any(row["price"] == {"amount": "25.00", "currency": "USD"} for row in read.json()["data"])
    assert pages == {"/agency/prices/": 200, "/agency/invoices/": 200}


def test_reseller_portals_survive_redis_refusing_connections(dns_zone, django_capture_on_commit_callbacks, settings):
    # The reseller's public pages on its domain, its client's sign-in on its host, the Reseller portal page.
    settings.CUSTOM_DOMAIN_TARGET = "domains.localhost"
    agency = portal_reseller_make("outage-reseller")
    portal_domain_make(dns_zone, agency, "portal.outage.test", capture=django_capture_on_commit_callbacks)
    client_make(agency, "outage-bloom")
    visitor, owner = Client(HTTP_HOST="portal.outage.test"), logged_in_client(agency)

    with cache_at(f"redis://127.0.0.1:{free_port()}/0"):
        answers = {path: visitor.get(path).status_code for path in ("/", "/pricing/", "/signup/")}
        answers["client sign-in"] = Client(HTTP_HOST="outage-bloom.portal.outage.test").get(
            "/accounts/login/").status_code
        answers["/settings/portal/"] = owner.get("/settings/portal/").status_code

    assert answers == dict.fromkeys(answers, 200)


def test_staff_and_public_pages_render_with_redis_refusing_connections(tenant_alpha):
    owner = logged_in_client(tenant_alpha)
    public = client_for(None)
    paths = staff_page_paths()

    with cache_at(f"redis://127.0.0.1:{free_port()}/0"):
        staff_answers = {path: owner.get(path).status_code for path in paths}
        public_answers = {path: public.get(path).status_code for path in ("/", "/pricing/", "/signup/")}

    # 405: actions that only take a POST (their forms are on the section pages); 302: a page that needs input
    # (the plan-change preview without a plan chosen) sends the reader back to its section.
    # 404: the agency pages on a workspace that is no agency and has none (test_agency_pages_render_... above).
    assert {path: status for path, status in staff_answers.items()
            if status not in (200, 302, 405) and not (status == 404 and path in AGENCY_PAGES)
            and not (status == 402 and path in (BRANDING_PAGE, DOMAINS_PAGE))
            and not (status == 404 and path == BRAND_STYLESHEET)} == {}
    assert staff_answers["/"] == staff_answers["/usage/"] == staff_answers["/wallet/"] == 200
    assert public_answers == {"/": 200, "/pricing/": 200, "/signup/": 200}


def test_sign_in_is_refused_not_failed_with_redis_refusing_connections(tenant_alpha):
    # Its failed-login throttle lives in Redis: without it, sign-in is refused rather than left unthrottled.
    client = client_for(tenant_alpha)

    with cache_at(f"redis://127.0.0.1:{free_port()}/0"):
        response = client.post("/accounts/login/", {"login": tenant_alpha.owner_email,
                                                    "password": STANDARD_PASSWORD})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_blackholed_redis_is_tried_once_per_request(tenant_alpha, limits_on, settings):
    settings.REDIS_CIRCUIT_OPEN_S = 0  # no circuit: each request meets the black hole afresh
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))
    requests = [("GET", "/api/v1/tenant"), ("GET", "/api/v1/usage/summary"), ("GET", "/api/v1/api-keys"),
                ("POST", "/api/v1/events")]

    with black_hole() as accepted:
        attempts = []
        for method, route in requests:
            before = len(accepted)
            response = call(client, method, route, revocable=None)
            attempts.append((route, response.status_code, len(accepted) - before))

    assert attempts == [("/api/v1/tenant", 200, 1), ("/api/v1/usage/summary", 200, 1),
                        ("/api/v1/api-keys", 200, 1), ("/api/v1/events", 200, 1)]


def test_after_redis_failed_the_process_leaves_it_alone_for_a_few_seconds(tenant_alpha, limits_on, monkeypatch):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))

    with black_hole() as accepted:
        client.get("/api/v1/tenant")
        client.get("/api/v1/tenant")
        client.get("/api/v1/tenant")
        during_circuit = len(accepted)
        later = redis_guard.time.monotonic() + settings.REDIS_CIRCUIT_OPEN_S + 1
        monkeypatch.setattr(redis_guard.time, "monotonic", lambda: later)
        client.get("/api/v1/tenant")
        after_circuit = len(accepted)

    assert (during_circuit, after_circuit) == (1, 2)


def test_a_key_used_while_redis_refuses_connections_still_records_its_last_use(tenant_alpha):
    client = api_client(tenant_alpha, api_key_for(tenant_alpha))

    with cache_at(f"redis://127.0.0.1:{free_port()}/0"):
        assert client.get("/api/v1/tenant").status_code == 200

    assert ApiKey.objects.get(tenant=tenant_alpha).last_used_at is not None


def test_signup_is_refused_not_failed_with_redis_refusing_connections(public_client):
    # Its per-IP limit lives in Redis: without it, signups (each provisions a schema) are refused.
    with cache_at(f"redis://127.0.0.1:{free_port()}/0"):
        response = public_client.post("/signup/", {"name": "Outage Co", "slug": "outage-co", "type": "business",
                                                   "email": "owner@outage.test", "password": "pw-outage-2026-x"})

    assert response.status_code == 429
    assert "Signups are paused for a moment" in response.content.decode()
    assert not Tenant.objects.filter(slug="outage-co").exists()
