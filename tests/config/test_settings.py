import os
import subprocess
import sys

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
