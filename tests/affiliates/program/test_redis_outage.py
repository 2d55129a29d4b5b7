"""The program with Redis refusing connections: clicks are written on the request instead of lost, attribution
still works, and applications are refused (their per-IP limit cannot be counted), never failed."""

import pytest

from affiliates.clicks import COOKIE_NAME
from affiliates.models import AffiliateApplication, Referral, ReferralClick
from tests.config.test_redis_outage import cache_at, free_port
from tests.support.affiliate_program import affiliate_make, browser, signed_up

pytestmark = pytest.mark.django_db


def test_a_click_is_written_on_the_request_while_redis_is_down():
    partner = affiliate_make("outage-aaaaa")

    with cache_at(f"redis://127.0.0.1:{free_port()}/0"):
        response = browser().get(f"/r/{partner.code}", {"to": "/pricing/"})

    assert response.status_code == 302 and response["Location"] == "/pricing/"
    assert COOKIE_NAME in response.cookies
    assert ReferralClick.objects.get().affiliate == partner


def test_a_signup_is_attributed_while_redis_is_down(tenant_alpha):
    partner = affiliate_make("outage-bbbbb")
    visitor = browser()

    with cache_at(f"redis://127.0.0.1:{free_port()}/0"):
        visitor.get(f"/r/{partner.code}")
        signed_up(visitor, tenant_alpha)

    assert Referral.objects.get(tenant=tenant_alpha).click.affiliate == partner


def test_an_application_is_refused_not_failed_while_redis_is_down():
    with cache_at(f"redis://127.0.0.1:{free_port()}/0"):
        response = browser().post("/affiliates/apply/", {"name": "Dana", "email": "dana@outage.test",
                                                         "promotion": "Blog"})

    assert response.status_code == 429
    assert "Applications are paused for a moment" in response.content.decode()
    assert not AffiliateApplication.objects.exists()
