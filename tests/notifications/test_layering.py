"""notifications sits at the bottom, with tenants and accounts: it imports neither billing nor metering (which
call it), so any app may notify without a cycle."""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
ALLOWED = {"notifications", "accounts", "tenants", "config"}


def test_notifications_imports_only_tenants_accounts_and_config():
    imported = set()
    for path in (ROOT / "notifications").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
    ours = {name for name in imported if (ROOT / name).is_dir() and name != "templates"}
    assert ours <= ALLOWED, ours - ALLOWED
