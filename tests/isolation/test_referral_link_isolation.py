"""`/r/CODE` is answered early, before tenant routing, on the platform's own host only: a workspace's host (or a
custom domain) never tracks a click, sets the referral cookies or answers for the public site."""

import pytest

from affiliates.clicks import COOKIE_NAME, DEVICE_COOKIE_NAME, clicks_key
from config.redis_guard import redis_connection
from tests.support.affiliate_program import BROWSER, affiliate_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner():
    redis_connection().delete(clicks_key())
    return affiliate_make("isolated-ab12c")


@pytest.mark.parametrize("host", ["alpha.localhost", "alpha.localhost:8000", "localhost.evil.test", "evil.test"])
def test_a_referral_link_on_another_host_sets_no_cookie_and_records_nothing(client, partner, tenant_alpha, host):
    response = client.get(f"/r/{partner.code}", HTTP_HOST=host, HTTP_USER_AGENT=BROWSER)

    assert response.status_code != 302
    assert COOKIE_NAME not in response.cookies and DEVICE_COOKIE_NAME not in response.cookies
    assert redis_connection().llen(clicks_key()) == 0


def test_a_referral_link_on_the_public_host_carries_no_session_of_a_tenant(client, partner, tenant_alpha):
    response = client.get(f"/r/{partner.code}", HTTP_HOST="localhost", HTTP_USER_AGENT=BROWSER)

    assert response.status_code == 302
    assert set(response.cookies) == {COOKIE_NAME, DEVICE_COOKIE_NAME}
