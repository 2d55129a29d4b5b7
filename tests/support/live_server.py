"""A live HTTP server for committed-data tests (API fuzzing, browser journeys), without pytest-django's
`live_server`: that one needs `transactional_db`, whose flush would wipe the shared public tenant rows.

The server runs Django's WSGI application (static files served by `StaticFilesHandler`) in a background
thread bound to 127.0.0.1 on a free port. Every client connection is handled in a thread of its own with its own
database connection, opened on demand and closed when the client connection closes; stopping the server ends the
client connections still open (keep-alive), so no database connection of the server outlives the test.

Data the server must see has to be committed: the fixtures depend on `committed_db` (tests/conftest.py), which
also unblocks database access for the server's threads.

Requests pick their tenant by the Host header: `alpha.localhost:<port>` (chromium resolves `*.localhost` to the
loopback address by itself; from Python, connect to 127.0.0.1 and send the Host header).

Usage: import the fixtures into a test module or conftest (`from tests.support.live_server import
committed_live_server, live_server_url  # noqa: F401`) and request one: `live_server_url` is the public site's
URL, `http://localhost:<port>`; `committed_live_server` is a `LiveServer` with the port and URL helpers.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.db import connections

HOST = "127.0.0.1"


class _QuietRequestHandler(WSGIRequestHandler):
    """No access log on stderr for every request."""

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass


class _Server(ThreadedWSGIServer):
    """Django's threaded server (a thread per connection, whose database connections are closed when the client
    connection closes), which also knows its open client connections so `stop()` can end them."""

    # A port the OS handed out is free, so no SO_REUSEADDR is needed.
    allow_reuse_address = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._open_lock = threading.Lock()
        self._open: dict[socket.socket, threading.Thread] = {}

    def process_request_thread(self, request, client_address):
        with self._open_lock:
            self._open[request] = threading.current_thread()
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._open_lock:
                self._open.pop(request, None)

    def close_open_connections(self, timeout_s: float) -> None:
        """End keep-alive client connections (browsers, HTTP sessions): their threads then return and close
        their database connections, instead of holding them after the test."""
        with self._open_lock:
            open_now = list(self._open.items())
        for client, _ in open_now:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for _, thread in open_now:
            thread.join(timeout_s)


@dataclass
class LiveServer:
    """A running server; `url_for(host)` builds URLs browsers can open, `base_url` is what Python clients
    connect to (send `Host: host_for(...)` with it)."""

    port: int

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def host_for(self, slug: str | None = None) -> str:
        """The Host header of the public site (slug None) or of a tenant, with the port."""
        return f"{slug}.localhost:{self.port}" if slug else f"localhost:{self.port}"

    def url_for(self, slug: str | None = None, path: str = "/") -> str:
        return f"http://{self.host_for(slug)}{path}"


class LiveServerThread(threading.Thread):
    """Serve Django on HOST:port (0 picks a free port) until `stop()`."""

    def __init__(self, port: int = 0):
        super().__init__(name="tollgate-live-server", daemon=True)
        self.port = port
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.httpd: _Server | None = None

    def run(self) -> None:
        try:
            self.httpd = _Server((HOST, self.port), _QuietRequestHandler)
            self.port = self.httpd.server_address[1]
            self.httpd.set_app(StaticFilesHandler(WSGIHandler()))
            self.ready.set()
            self.httpd.serve_forever(poll_interval=0.1)
        except BaseException as error:  # reported to the starting thread
            self.error = error
            self.ready.set()
        finally:
            connections.close_all()

    def start_and_wait(self, timeout_s: float = 10.0) -> None:
        self.start()
        if not self.ready.wait(timeout_s):
            raise RuntimeError(f"the live server did not start within {timeout_s} s")
        if self.error is not None:
            raise RuntimeError("the live server failed to start") from self.error

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd.close_open_connections(timeout_s=5)
        self.join(timeout=10)


@pytest.fixture
def committed_live_server(committed_db, settings) -> Iterator[LiveServer]:
    """A live server on a free port for this test. SITE_PORT follows it, so links the platform builds to tenant
    hosts (the signup redirect, emails) point at this server.

    Not named `live_server`: pytest-django's autouse helper would then pull in `transactional_db`."""
    thread = LiveServerThread()
    thread.start_and_wait()
    settings.SITE_PORT = str(thread.port)
    try:
        yield LiveServer(port=thread.port)
    finally:
        thread.stop()


@pytest.fixture
def live_server_url(committed_live_server: LiveServer) -> str:
    """URL of the public site on the live server: `http://localhost:<port>`."""
    return committed_live_server.url_for(None, "").rstrip("/")
