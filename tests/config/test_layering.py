"""The layering rule of the README's Layout section: config/api (the API kit) and config/errors.py are a leaf
that imports no app of ours, and no view module imports another app's views."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
OUR_APPS = frozenset(name for name in settings.INSTALLED_APPS if "." not in name and (ROOT / name).is_dir())
LEAF_MODULES = sorted([*(ROOT / "config" / "api").glob("*.py"), ROOT / "config" / "errors.py"])
VIEW_MODULES = sorted(path for app in OUR_APPS for path in (ROOT / app).glob("*.py")
                      if path.stem == "views" or path.stem.startswith("views_") or path.stem.endswith("_views"))


def imported_modules(path: Path) -> set[str]:
    """Every absolute import of the module, those inside functions included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def is_views_module(name: str) -> bool:
    stem = name.rsplit(".", 1)[-1]
    return stem == "views" or stem.startswith("views_") or stem.endswith("_views")


def test_our_apps_and_modules_are_found():
    assert {"accounts", "tenants", "metering", "billing"} <= OUR_APPS
    assert ROOT / "config" / "api" / "errors.py" in LEAF_MODULES
    assert ROOT / "accounts" / "views.py" in VIEW_MODULES


@pytest.mark.parametrize("path", LEAF_MODULES, ids=lambda path: str(path.relative_to(ROOT)))
def test_the_api_kit_imports_no_app_of_ours(path):
    assert {name for name in imported_modules(path) if name.split(".")[0] in OUR_APPS} == set()


@pytest.mark.parametrize("path", LEAF_MODULES, ids=lambda path: str(path.relative_to(ROOT)))
def test_the_api_kit_names_no_app_of_ours_even_as_a_dotted_path(path):
    strings = {node.value for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert {text for text in strings if text.split(".")[0] in OUR_APPS and "." in text} == set()


@pytest.mark.parametrize("path", VIEW_MODULES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_view_imports_another_apps_views(path):
    app = path.parent.name
    assert {name for name in imported_modules(path)
            if is_views_module(name) and name.split(".")[0] != app} == set()
