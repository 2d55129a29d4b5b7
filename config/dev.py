"""`./dev` subcommands: up, test, bench, manage. Starts the embedded databases when their URLs are unset.

Kept out of the Django app on purpose: it runs before settings can load (they need DATABASE_URL).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from config.embedded import free_port, port_is_free, postgres_start, redis_start
from devtools.stripe_fake import TEST_SECRET_KEY, WEBHOOK_SECRET
from devtools.stripe_fake_server import DEV_PORT as DEV_STRIPE_PORT
from devtools.stripe_fake_server import PUBLISHABLE_KEY, webhook_url_send

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
PYTHON = sys.executable
DEV_REDIS_PORT = 6390
# The local DNS server for the demo's custom domains (devtools/dns_server.py), serving DEMO_DNS_RECORDS.
DEV_DNS_PORT = 5390
DEMO_DNS_RECORDS = DATA / "demo-dns.json"
DEMO_CUSTOM_DOMAIN = "portal.northwind.localhost"


def say(message: str) -> None:
    # stderr, so `KEY=$(./dev manage api_key_create ...)` captures only the command's own output.
    sys.stderr.write(f"[dev] {message}\n")
    sys.stderr.flush()


class StripeFakeProcess:
    """The fake Stripe (devtools/stripe_fake_server.py) as a subprocess, its objects kept in `state`."""

    def __init__(self, *, port: int, state: Path):
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen([PYTHON, "-m", "devtools.stripe_fake_server", "--port", str(port),
                                         "--state", str(state)], cwd=ROOT)

    def wait_ready(self, timeout_s: float = 15.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not stripe_fake_answers(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the fake Stripe did not start on {self.url}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


class DemoDnsProcess:
    """The local DNS server as a subprocess, serving the records file the demo seeds write (reloaded on change)."""

    def __init__(self, *, port: int, records: Path):
        self.port = port
        self.process = subprocess.Popen([PYTHON, "-m", "devtools.dns_server", "--port", str(port), "--records",
                                         str(records), "--watch"], cwd=ROOT)

    def wait_ready(self, timeout_s: float = 15.0) -> None:
        deadline = time.monotonic() + timeout_s
        while port_is_free(self.port):  # it listens on TCP too, once both servers are up
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the local DNS server did not start on port {self.port}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def demo_dns_env(env: dict[str, str]) -> None:
    """Verification asks the demo's DNS server, and the demo domain (under BASE_DOMAIN=localhost) may be claimed."""
    env.update({"DNS_RESOLVER_NAMESERVERS": "127.0.0.1", "DNS_RESOLVER_PORT": str(DEV_DNS_PORT),
                "DEMO_DNS_RECORDS_FILE": str(DEMO_DNS_RECORDS), "CUSTOM_DOMAIN_DEMO_HOSTNAMES": DEMO_CUSTOM_DOMAIN})


def stripe_fake_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_fake/health", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def stripe_fake_env(env: dict[str, str], url: str) -> None:
    """Point the app at the local fake: its test keys and webhook secret (nothing real is ever sent anywhere)."""
    env.update({"STRIPE_API_BASE": url, "STRIPE_SECRET_KEY": TEST_SECRET_KEY, "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
                "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET})


@contextlib.contextmanager
def services(*, profile: str) -> Iterator[dict[str, str]]:
    """Yield an environment with DATABASE_URL and REDIS_URL, starting embedded servers for unset ones.

    profile "dev" keeps data in .data/postgres and .data/redis.rdb between runs; "test" uses a separate,
    throwaway-tuned cluster so a test run never touches demo data.
    """
    env = dict(os.environ)
    started = []
    try:
        if not env.get("DATABASE_URL"):
            database = "tollgate" if profile == "dev" else "tollgate_test"
            t0 = time.monotonic()
            postgres = postgres_start(DATA / f"postgres-{profile}", database=database, throwaway=profile == "test")
            started.append(postgres)
            env["DATABASE_URL"] = postgres.url(database)
            say(f"embedded PostgreSQL up in {time.monotonic() - t0:.1f}s ({postgres.data_dir})")
        if not env.get("REDIS_URL") and profile == "dev" and not port_is_free(DEV_REDIS_PORT):
            # `./dev up` is running: share its Redis (and, through pgserver, its PostgreSQL).
            env["REDIS_URL"] = f"redis://127.0.0.1:{DEV_REDIS_PORT}/0"
        if not env.get("REDIS_URL"):
            port = DEV_REDIS_PORT if profile == "dev" else free_port()
            t0 = time.monotonic()
            # A test run's Redis is its own (its file too): concurrent runs must not share or stop each other's.
            db_file = DATA / ("redis-dev.rdb" if profile == "dev" else f"redis-test-{os.getpid()}.rdb")
            redis = redis_start(db_file, port=port, throwaway=profile == "test")
            started.append(redis)
            env["REDIS_URL"] = redis.url
            say(f"embedded Redis up in {time.monotonic() - t0:.1f}s on {redis.url}")
        if profile == "dev" and not env.get("DNS_RESOLVER_NAMESERVERS"):
            if port_is_free(DEV_DNS_PORT):
                demo_dns = DemoDnsProcess(port=DEV_DNS_PORT, records=DEMO_DNS_RECORDS)
                started.append(demo_dns)
                demo_dns.wait_ready()
            # Otherwise `./dev up` is running: share its DNS server, as the databases are shared.
            demo_dns_env(env)
            say(f"demo DNS server on 127.0.0.1:{DEV_DNS_PORT} (the demo's custom domain is verified against it)")
        if profile == "dev" and not env.get("STRIPE_SECRET_KEY"):
            url = f"http://127.0.0.1:{DEV_STRIPE_PORT}"
            if port_is_free(DEV_STRIPE_PORT):
                fake = StripeFakeProcess(port=DEV_STRIPE_PORT, state=DATA / "stripe-fake.json")
                started.append(fake)
                fake.wait_ready()
            elif not stripe_fake_answers(url):
                raise RuntimeError(f"port {DEV_STRIPE_PORT} is taken by something other than the fake Stripe; free "
                                   "it or set STRIPE_SECRET_KEY")
            # Otherwise `./dev up` is running: share its fake, as the databases are shared.
            stripe_fake_env(env, url)
            say(f"Stripe runs on the local fake at {url} (test data, no real card is charged; "
                "set STRIPE_SECRET_KEY for Stripe's test mode)")
        yield env
    finally:
        for server in reversed(started):
            server.stop()
        if started:
            say("embedded services stopped")


def run(args: list[str], env: dict[str, str]) -> int:
    return subprocess.call(args, cwd=ROOT, env=env)


def manage(args: list[str], env: dict[str, str]) -> int:
    return run([PYTHON, "manage.py", *args], env)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def command_up(_: list[str]) -> int:
    # Ctrl-C and `kill` both stop everything this command started, the databases included.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    with services(profile="dev") as env:
        env.setdefault("DJANGO_ENV", "local")
        code = manage(["migrate", "--noinput"], env)
        code = code or stripe_webhook_setup(env)
        for step in (["demo_seed"], ["usage_demo_seed"], ["billing_demo_seed"], ["stripe_demo_seed"],
                     ["revenue_demo_seed"], ["coach_demo_seed"], ["content_demo_seed"],
                     ["affiliates_demo_seed"], ["agencies_demo_seed"], ["whitelabel_demo_seed"],
                     ["reseller_demo_seed"], ["portal_demo_seed"], ["sender_domain_demo_seed"]):
            code = code or manage(step, env)
        if code:
            return code
        processes = [
            subprocess.Popen([PYTHON, "manage.py", "runserver", "0.0.0.0:8000"], cwd=ROOT, env=env),
            subprocess.Popen([PYTHON, "-m", "celery", "-A", "config", "worker", "-l", "info", "--concurrency", "2"],
                             cwd=ROOT, env=env),
            subprocess.Popen([PYTHON, "-m", "celery", "-A", "config", "beat", "-l", "info"], cwd=ROOT, env=env),
        ]
        say("web on http://localhost:8000 (admin: /admin/), Celery worker and beat running. Ctrl-C stops all.")
        try:
            while all(process.poll() is None for process in processes):
                time.sleep(0.5)
            say("a process exited; stopping the rest")
        except KeyboardInterrupt:
            say("stopping")
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
    return 0


def stripe_webhook_setup(env: dict[str, str]) -> int:
    """Record dj-stripe's webhook endpoint; on the local fake, also tell the fake to post its events there. With
    real test keys but no STRIPE_WEBHOOK_SECRET yet, the README's `stripe listen` steps say where it comes from."""
    if not env.get("STRIPE_WEBHOOK_SECRET"):
        say("no STRIPE_WEBHOOK_SECRET: Stripe's webhooks are not received (README: Payments, Stripe test mode)")
        return 0
    result = subprocess.run([PYTHON, "manage.py", "stripe_webhook_setup", "--url-only"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    if result.returncode:
        sys.stderr.write(result.stderr)
        return result.returncode
    url = result.stdout.strip()
    if env.get("STRIPE_SECRET_KEY") == TEST_SECRET_KEY:
        webhook_url_send(env["STRIPE_API_BASE"], url)
        say(f"the fake Stripe posts its webhooks to {url}")
    else:
        say(f"Stripe webhook endpoint: {url} (locally: stripe listen --forward-to {url})")
    return 0


def command_test(args: list[str]) -> int:
    with services(profile="test") as env:
        env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
        env.pop("DJANGO_ENV", None)
        workers = [] if any(arg.startswith("-n") for arg in args) else ["-n", os.environ.get("TEST_WORKERS", "2")]
        return run([PYTHON, "-m", "pytest", *workers, *args], env)


def command_bench(args: list[str]) -> int:
    if not args:
        say("usage: ./dev bench NAME  (runs bench/NAME.py)")
        return 2
    with services(profile="test") as env:
        env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
        env.pop("DJANGO_ENV", None)
        return run([PYTHON, f"bench/{args[0]}.py", *args[1:]], env)


def command_manage(args: list[str]) -> int:
    with services(profile="dev") as env:
        return manage(args, env)


COMMANDS = {"up": command_up, "test": command_test, "bench": command_bench, "manage": command_manage}


def main() -> int:
    # pgserver keeps its inter-process lock under the user's runtime dir; give it one inside .data.
    runtime_dir = DATA / "run"
    runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))
    parser = argparse.ArgumentParser(prog="./dev", description="Run Tollgate locally.")
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    return COMMANDS[options.command](options.args)


if __name__ == "__main__":
    sys.exit(main())
