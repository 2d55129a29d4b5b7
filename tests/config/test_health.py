import pytest
from django.db import connections
from django.test import override_settings

from config import health

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


def test_healthz_answers_200_when_database_cache_and_broker_answer(public_client):
    response = public_client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok", "components": {"database": "ok", "cache": "ok", "broker": "ok"}, "failing": [],
    }


def test_healthz_answers_503_naming_the_broker_when_it_is_down(public_client):
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        response = public_client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]


def test_healthz_answers_503_naming_the_cache_when_it_is_down(public_client):
    unreachable = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0",
                               "KEY_FUNCTION": "django_tenants.cache.make_key",
                               "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1}}}
    with override_settings(CACHES=unreachable):
        response = public_client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["components"]["cache"] == "down"
    assert response.json()["failing"] == ["cache"]


def test_healthz_answers_503_naming_the_database_when_it_is_down(public_client, monkeypatch):
    unreachable = connections.create_connection("default")
    unreachable.settings_dict = {**unreachable.settings_dict, "HOST": "127.0.0.1", "PORT": "1"}
    monkeypatch.setattr(health, "connection", unreachable)

    response = public_client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]


def test_healthz_is_not_served_on_tenant_hosts(alpha_client):
    assert alpha_client.get("/healthz").status_code == 404
