from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from config.lookup_cache import lookup_key
from config.redis_guard import (
    GuardedConnectionPool,
    GuardedRetry,
    RedisSkipped,
    redis_available,
    redis_circuit_bypassed,
    redis_connection,
    redis_key,
    redis_request,
)
from metering.gateway.services import slot_key
from metering.limits.quotas import counter_key
from metering.limits.tracking import api_calls_key


def attempts_of(*outcomes):
    """A command that meets `outcomes` in turn (an exception is raised, anything else returned)."""
    calls = []

    def do():
        outcome = outcomes[len(calls)]
        calls.append(outcome)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return do, calls


def test_a_broken_connection_is_retried_at_once_without_opening_the_circuit():
    do, calls = attempts_of(RedisConnectionError("Connection closed by server."), "PONG")
    closed = []

    assert GuardedRetry().call_with_retry(do, closed.append) == "PONG"
    assert (len(calls), len(closed)) == (2, 1)
    assert redis_available()


def test_a_timeout_is_not_retried_and_opens_the_circuit():
    do, calls = attempts_of(RedisTimeoutError("Timeout reading from socket"), "PONG")

    with pytest.raises(RedisTimeoutError):
        GuardedRetry().call_with_retry(do, lambda error: None)

    assert len(calls) == 1
    assert not redis_available()
    with pytest.raises(RedisSkipped):
        GuardedRetry().call_with_retry(do, lambda error: None)
    assert len(calls) == 1


def test_redis_refusing_twice_opens_the_circuit():
    do, calls = attempts_of(RedisConnectionError("refused"), RedisConnectionError("refused"))

    with pytest.raises(RedisConnectionError):
        GuardedRetry().call_with_retry(do, lambda error: None)

    assert len(calls) == 2
    assert not redis_available()


def test_a_bypassed_command_is_sent_while_the_circuit_is_open():
    with pytest.raises(RedisTimeoutError):
        GuardedRetry().call_with_retry(attempts_of(RedisTimeoutError("timed out"))[0], lambda error: None)
    do, calls = attempts_of("OK")

    with redis_circuit_bypassed():
        assert GuardedRetry().call_with_retry(do, lambda error: None) == "OK"


def test_a_failure_in_one_request_does_not_skip_redis_in_the_next_once_the_circuit_closed(settings):
    settings.REDIS_CIRCUIT_OPEN_S = 0
    with redis_request():
        with pytest.raises(RedisTimeoutError):
            GuardedRetry().call_with_retry(attempts_of(RedisTimeoutError("timed out"))[0], lambda error: None)
        assert not redis_available()

    with redis_request():
        assert redis_available()


# --- Keys ------------------------------------------------------------------------------------------------

@pytest.fixture
def key_prefix(settings):
    def set_prefix(prefix: str) -> None:
        settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": prefix}}
    return set_prefix


def test_our_redis_keys_are_in_the_cache_key_prefixs_namespace(key_prefix):
    key_prefix("acme")

    assert redis_key("quota", "api_calls", 7, "202612") == "acme:quota:api_calls:7:202612"


def test_without_a_key_prefix_our_redis_keys_start_with_tollgate(key_prefix):
    key_prefix("")

    assert redis_key("api-calls") == "tollgate:api-calls"


TENANT = SimpleNamespace(pk=7)


@pytest.mark.parametrize(("key", "name_before"), [
    (lambda: api_calls_key(), "tollgate:api-calls"),
    (lambda: api_calls_key("rejected"), "tollgate:api-calls:rejected"),
    (lambda: api_calls_key("processing"), "tollgate:api-calls:processing"),
    (lambda: api_calls_key("flush-lock"), "tollgate:api-calls:flush-lock"),
    (lambda: counter_key(TENANT, "api_calls", datetime(2026, 12, 1, tzinfo=UTC)),
     "tollgate:quota:api_calls:7:202612"),
    (lambda: slot_key(TENANT), "tollgate:ai-slots:7"),
    (lambda: lookup_key("generation"), "tollgate:lookup:generation"),
], ids=["buffer", "rejected", "processing", "flush-lock", "quota", "ai-slots", "lookup"])
def test_a_deployment_keeps_the_redis_key_names_it_had(key_prefix, key, name_before):
    # Production sets no KEY_PREFIX: buffered API calls and this month's counters survive a deploy.
    key_prefix("")

    assert key() == name_before


def test_commands_on_the_one_connection_are_guarded():
    assert isinstance(redis_connection().connection_pool, GuardedConnectionPool)
