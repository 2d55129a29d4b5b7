"""A real Celery worker process, fed through Redis, runs a tenant's task in that tenant's schema."""

import os
import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django_tenants.utils import schema_context, tenant_context

from accounts.tasks import expired_sessions_clear
from config.celery import app as celery_app
from tests.support.sessions import session_create, session_keys

pytestmark = [pytest.mark.redis, pytest.mark.worker]


@pytest.fixture
def worker_queue(committed_db):
    """Start a worker on a queue of its own, against this test run's database and Redis."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    database_url = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{settings.DATABASES['default']['NAME']}")
    env = {**os.environ, "DATABASE_URL": database_url.geturl(), "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-Q", queue, "-l", "warning",
         "--without-heartbeat", "--without-mingle", "--without-gossip"],
        cwd=settings.BASE_DIR, env=env,
    )
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield queue
    finally:
        celery_app.conf.task_always_eager = eager
        worker.terminate()
        worker.wait(timeout=20)


def _wait_until(condition, timeout_s: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_a_task_enqueued_for_a_tenant_runs_in_its_schema_on_a_real_worker(worker_queue):
    from tenants.models import Tenant

    keys = {"alpha": f"alpha-{uuid.uuid4().hex}", "beta": f"beta-{uuid.uuid4().hex}"}
    for schema, key in keys.items():
        session_create(schema, expired=True, key=key)
    try:
        with tenant_context(Tenant.objects.get(slug="alpha")):
            expired_sessions_clear.apply_async(queue=worker_queue)

        assert _wait_until(lambda: keys["alpha"] not in session_keys("alpha"))
        assert keys["beta"] in session_keys("beta")
    finally:
        for schema, key in keys.items():
            with schema_context(schema):
                Session.objects.filter(session_key=key).delete()
