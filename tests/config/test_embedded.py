"""The embedded Redis that `./dev` starts: a test run's leaves nothing in .data, a dev run's keeps its data."""

import os
import signal
import time

import psutil

from config.embedded import free_port, redis_start


def test_a_stopped_throwaway_redis_leaves_no_file_behind(tmp_path):
    db_file = tmp_path / "redis-test.rdb"
    server = redis_start(db_file, port=free_port(), throwaway=True)
    server.server.set("key", "value")

    server.stop()

    assert list(tmp_path.iterdir()) == []


def test_a_throwaway_redis_stopped_by_a_signal_writes_no_file(tmp_path):
    db_file = tmp_path / "redis-test.rdb"
    server = redis_start(db_file, port=free_port(), throwaway=True)
    server.server.set("key", "value")
    process = psutil.Process(server.server.pid)

    # What an interrupted run leaves to the server: a SIGTERM, on which Redis snapshots if it has save points.
    os.kill(process.pid, signal.SIGTERM)
    process.wait(timeout=10)
    time.sleep(0.1)

    assert not db_file.exists()
    server.stop()


def test_a_stopped_throwaway_redis_leaves_no_temporary_directory(tmp_path):
    server = redis_start(tmp_path / "redis-test.rdb", port=free_port(), throwaway=True)
    temporary_directory = server.server.redis_dir

    server.stop()

    assert not os.path.exists(temporary_directory)


def test_a_dev_redis_keeps_its_data_across_a_restart(tmp_path):
    db_file = tmp_path / "redis-dev.rdb"
    first = redis_start(db_file, port=free_port())
    first.server.set("key", "value")
    first.stop()

    second = redis_start(db_file, port=free_port())
    try:
        assert second.server.get("key") == b"value"
    finally:
        second.stop()
