import time
import uuid

import orjson
import pytest
from django.core import signing
from django.test import override_settings

from affiliates import clicks as clicks_module
from affiliates.clicks import (
    COOKIE_NAME,
    COOKIE_SALT,
    DEVICE_COOKIE_NAME,
    clicks_flush,
    clicks_key,
)
from affiliates.fingerprints import ip_hash
from affiliates.models import Affiliate, ReferralClick
from config.redis_guard import redis_connection
from tests.support.affiliate_program import affiliate_make, browser, click

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner():
    return affiliate_make("partner-ab12c")


def _buffered() -> int:
    return redis_connection().llen(clicks_key())


def test_a_referral_link_redirects_to_the_landing_page_and_sets_the_cookies(partner):
    response = click(browser(), partner.code, flush=False)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert COOKIE_NAME in response.cookies and DEVICE_COOKIE_NAME in response.cookies
    assert response.cookies[COOKIE_NAME]["max-age"] == 60 * 86400


def test_a_click_is_buffered_not_written_on_the_request(partner):
    click(browser(), partner.code, flush=False)

    assert _buffered() == 1
    assert not ReferralClick.objects.exists()


def test_the_flush_writes_the_click_with_a_hashed_ip_and_no_address(partner):
    click(browser(ip="198.51.100.7"), partner.code, to="/pricing/")

    stored = ReferralClick.objects.get()
    assert (stored.affiliate_id, stored.landing_path, stored.user_agent_class) == (partner.pk, "/pricing/", "desktop")
    assert stored.ip_hash == ip_hash("198.51.100.7") and "198.51.100.7" not in stored.ip_hash
    assert _buffered() == 0


def test_the_cookie_carries_the_click_id(partner):
    response = click(browser(), partner.code)

    data = signing.loads(response.cookies[COOKIE_NAME].value, salt=COOKIE_SALT)
    assert uuid.UUID(data["f"][0]) == ReferralClick.objects.get().click_id


def test_a_ref_parameter_on_a_public_page_records_a_click(partner):
    response = browser().get("/pricing/", {"ref": partner.code})
    clicks_flush()

    assert response.status_code == 200
    assert ReferralClick.objects.get().landing_path == "/pricing/"


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "http:/evil.example", "/no-such-page/",
    "javascript:alert(1)", "/pricing/?a=\r\nSet-Cookie: x=1", "/pricing/ ",
])
def test_an_open_redirect_is_refused_and_lands_on_the_home_page(partner, target):
    response = click(browser(), partner.code, to=target)

    assert response["Location"] == "/"


def test_a_path_of_the_public_site_is_followed(partner):
    assert click(browser(), partner.code, to="/signup/")["Location"] == "/signup/"


@pytest.mark.parametrize("user_agent", [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "facebookexternalhit/1.1", "curl/8.5.0", "python-requests/2.32", "",
])
def test_known_bots_are_redirected_but_not_counted(partner, user_agent):
    response = browser().get(f"/r/{partner.code}", HTTP_USER_AGENT=user_agent)

    assert response.status_code == 302
    assert COOKIE_NAME not in response.cookies
    assert _buffered() == 0


def test_an_unknown_code_records_nothing():
    response = click(browser(), "nobody-00000", flush=False)

    assert response.status_code == 302 and COOKIE_NAME not in response.cookies
    assert _buffered() == 0


def test_a_suspended_affiliates_link_records_nothing(partner):
    partner.status = Affiliate.Status.SUSPENDED
    partner.save()

    response = click(browser(), partner.code, flush=False)

    assert COOKIE_NAME not in response.cookies and _buffered() == 0


def test_a_referral_link_on_a_tenant_host_is_not_a_referral_link(partner, tenant_alpha):
    response = browser().get(f"/r/{partner.code}", HTTP_HOST="alpha.localhost")

    assert COOKIE_NAME not in response.cookies and _buffered() == 0


def test_a_second_click_keeps_the_first_click_in_the_cookie():
    first, second = affiliate_make("first-11111"), affiliate_make("second-22222")
    visitor = browser()
    click(visitor, first.code)
    response = click(visitor, second.code)

    data = signing.loads(response.cookies[COOKIE_NAME].value, salt=COOKIE_SALT)
    assert (data["f"][1], data["l"][1]) == (first.pk, second.pk)


def test_the_device_cookie_is_kept_across_clicks(partner):
    visitor = browser()
    click(visitor, partner.code)
    click(visitor, partner.code)

    assert ReferralClick.objects.values("device_hash").distinct().count() == 1


def test_two_flushes_store_each_click_once(partner):
    visitor = browser()
    for _ in range(3):
        click(visitor, partner.code, flush=False)

    assert clicks_flush() == 3
    assert clicks_flush() == 0
    assert ReferralClick.objects.count() == 3


def test_a_chunk_left_by_a_dead_flush_is_adopted_and_stored_once(partner):
    click(browser(), partner.code, flush=False)
    redis = redis_connection()
    # A flush took the chunk (and also stored it), then died before deleting it; its lease has run out.
    items = clicks_module._chunk_take(redis, clicks_key("processing", "dead"))
    clicks_module.clicks_insert([orjson.loads(item) for item in items])
    redis.zadd(clicks_key("processing"), {clicks_key("processing", "dead"): time.time() - 1})

    assert clicks_flush() == 1
    assert ReferralClick.objects.count() == 1
    assert redis.zcard(clicks_key("processing")) == 0


@override_settings(AFFILIATE_CLICK_BUFFER_ENABLED=False)
def test_without_the_buffer_a_click_is_written_on_the_request(partner):
    click(browser(), partner.code, flush=False)

    assert ReferralClick.objects.count() == 1 and _buffered() == 0


def test_with_redis_down_a_click_is_written_on_the_request(partner, monkeypatch):
    def down():
        raise ConnectionError("redis down")

    original = clicks_module.redis_connection
    monkeypatch.setattr(clicks_module, "redis_connection", down)
    click(browser(), partner.code, flush=False)
    monkeypatch.setattr(clicks_module, "redis_connection", original)

    assert ReferralClick.objects.count() == 1 and _buffered() == 0


def test_a_head_request_is_redirected_but_not_counted(partner):
    response = browser().head(f"/r/{partner.code}")

    assert response.status_code == 302 and COOKIE_NAME not in response.cookies
    assert _buffered() == 0


def test_a_referral_link_answer_carries_the_security_headers(partner):
    response = click(browser(), partner.code, flush=False)

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Request-Id"]


def test_a_buffered_click_makes_no_query_once_its_code_is_cached(partner, django_assert_num_queries):
    click(browser(), partner.code, flush=False)

    with django_assert_num_queries(0):
        response = click(browser(), partner.code, flush=False)

    assert COOKIE_NAME in response.cookies and _buffered() == 2


def test_a_referral_link_on_the_www_host_is_tracked_too(partner):
    response = browser().get(f"/r/{partner.code}", {"to": "/pricing/"}, HTTP_HOST="www.localhost")
    clicks_flush()

    assert response.status_code == 302 and response["Location"] == "/pricing/"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert ReferralClick.objects.get().affiliate == partner


@override_settings(SECURE_SSL_REDIRECT=True)
def test_a_referral_link_over_http_goes_to_https_first_and_is_tracked_there(partner):
    plain = browser().get(f"/r/{partner.code}")
    secure = browser().get(f"/r/{partner.code}", secure=True)

    assert plain.status_code == 301 and plain["Location"].startswith("https://localhost/r/")
    assert COOKIE_NAME not in plain.cookies
    assert secure.status_code == 302 and COOKIE_NAME in secure.cookies
    assert _buffered() == 1


def test_a_referral_link_cannot_send_the_visitor_on_to_another_referral_link(partner):
    other = affiliate_make("other-33333")

    response = click(browser(), partner.code, to=f"/r/{other.code}")

    assert response["Location"] == "/"
    assert ReferralClick.objects.get().affiliate == partner
