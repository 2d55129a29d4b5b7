import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from config.redis_guard import GuardedRetry, RedisSkipped, redis_available, redis_circuit_bypassed, redis_request


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
