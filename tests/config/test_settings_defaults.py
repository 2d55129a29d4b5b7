"""Every setting's default is defined once, in config/settings/base.py: app code reads `settings.X`, never
`getattr(settings, "X", default)`, whose second default could disagree with the first."""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APP_MODULES = sorted(path for package in ("accounts", "billing", "config", "metering", "tenants")
                     for path in (ROOT / package).rglob("*.py")
                     if "migrations" not in path.parts and "settings" not in path.relative_to(ROOT).parts[1:2])


def getattr_on_settings(path: Path) -> list[int]:
    return [node.lineno for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
            and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == "settings"]


def test_app_code_reads_settings_without_a_second_default():
    offenders = {str(path.relative_to(ROOT)): lines for path in APP_MODULES if (lines := getattr_on_settings(path))}

    assert APP_MODULES
    assert offenders == {}
