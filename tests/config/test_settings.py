import os
import subprocess
import sys

import pytest
from django.conf import settings


def test_production_settings_pass_the_deployment_checklist():
    env = {
        **os.environ, "DJANGO_ENV": "production", "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "k" * 20 + "-production-like-secret-" + "z9" * 10, "ALLOWED_HOSTS": ".tollgate.example",
        "BASE_DOMAIN": "tollgate.example",
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_a_missing_secret_key():
    env = {**os.environ, "DJANGO_ENV": "production", "DJANGO_SETTINGS_MODULE": "config.settings.production",
           "SECRET_KEY": ""}

    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=settings.BASE_DIR, env=env,
                            capture_output=True, text=True, timeout=120)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


PRODUCTION_LIKE_SECRET = "k" * 20 + "-production-like-secret-" + "z9" * 10


def _python(code: str, **env_changes: str | None) -> subprocess.CompletedProcess:
    env = {**os.environ}
    for name, value in env_changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("module", ["config.wsgi", "config.asgi", "config.celery", "manage"])
def test_entry_point_refuses_to_start_in_production_without_a_secret_key(module):
    code = "import manage; manage.main()" if module == "manage" else f"import {module}"

    result = _python(code, DJANGO_ENV="production", DJANGO_SETTINGS_MODULE=None, SECRET_KEY=None)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("module", ["config.celery", "config.wsgi"])
def test_server_entry_point_without_django_env_does_not_load_local_settings(module):
    # config/__init__ imports the Celery app first, so its default used to decide wsgi's too: local, with DEBUG.
    code = f"import {module}; from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)"

    result = _python(code, DJANGO_ENV=None, DJANGO_SETTINGS_MODULE=None, SECRET_KEY=PRODUCTION_LIKE_SECRET)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["config.settings.production", "False"]


def test_celery_without_django_env_or_secret_key_refuses_to_start():
    result = _python("import config.celery", DJANGO_ENV=None, DJANGO_SETTINGS_MODULE=None, SECRET_KEY=None)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_manage_without_django_env_still_runs_local_settings():
    code = "import sys, manage; sys.argv = ['manage.py', 'diffsettings', '--output', 'unified']; manage.main()"

    result = _python(code, DJANGO_ENV=None, DJANGO_SETTINGS_MODULE=None, SECRET_KEY=None)

    assert result.returncode == 0, result.stderr
    assert "+ SETTINGS_MODULE = 'config.settings.local'" in result.stdout


def test_an_unknown_django_env_is_refused_by_name():
    result = _python("import config.wsgi", DJANGO_ENV="staging", DJANGO_SETTINGS_MODULE=None,
                     SECRET_KEY=PRODUCTION_LIKE_SECRET)

    assert result.returncode != 0
    assert "DJANGO_ENV must be one of local, test, production, not 'staging'" in result.stderr
