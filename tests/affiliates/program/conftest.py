import pytest

from affiliates.clicks import clicks_key
from config.redis_guard import redis_connection


@pytest.fixture(autouse=True)
def empty_click_buffer():
    """Redis outlives each test's transaction: every test starts with no buffered click."""
    redis = redis_connection()
    keys = [clicks_key(), clicks_key("processing"), *redis.scan_iter(clicks_key("processing", "*"))]
    redis.delete(*keys)
    yield
