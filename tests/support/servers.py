"""Real server processes for integration tests and benchmarks: gunicorn on 127.0.0.1 against a given database."""

import http.client
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]


def database_url_for(name: str) -> str:
    """The current DATABASE_URL pointed at another database of the same cluster."""
    return urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}").geturl()


def gunicorn_start(port: int, *, database: str, workers: int = 1, env: dict[str, str] | None = None,
                   timeout_s: float = 30.0) -> subprocess.Popen:
    """Start gunicorn with the test settings on `database` and return once /healthz answers."""
    server_env = {**os.environ, "DATABASE_URL": database_url_for(database),
                  "DJANGO_SETTINGS_MODULE": "config.settings.test", **(env or {})}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--workers", str(workers), "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning", "--keep-alive", "30"], cwd=ROOT, env=server_env,
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            probe.request("GET", "/healthz", headers={"Host": "localhost"})
            probe.getresponse().read()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"gunicorn did not start on port {port}")


def server_stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=20)
