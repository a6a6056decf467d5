"""Every scoped model with pages or an API has the generic scope tests (style habit 8)."""

import ast
import importlib
import pkgutil
from pathlib import Path

from django.apps import apps
from django.urls import NoReverseMatch, reverse

import tests
from epigrid.api import router
from tests.scoping import ScopedAPITests, ScopedViewTests

# Models whose pages are read-only lists tested on their own (tests/test_audit.py).
EXEMPT_FROM_VIEW_TESTS = {"audit.objectchange"}


def _test_classes(mixin):
    for info in pkgutil.iter_modules(tests.__path__):
        if info.name.startswith("test_"):
            importlib.import_module(f"tests.{info.name}")
    found, stack = set(), list(mixin.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.model is not None:
            found.add(cls.model._meta.label_lower)
    return found


def _has_pages(model):
    meta = model._meta
    try:
        reverse(f"{meta.app_label}:{meta.model_name}_edit", args=[1])
        return True
    except NoReverseMatch:
        return False


def _scoped_models():
    return [m for m in apps.get_models() if hasattr(m, "scope_lookup")]


def test_it_finds_view_scope_tests_for_every_scoped_model_with_pages():
    with_pages = {m._meta.label_lower for m in _scoped_models() if _has_pages(m)} - EXEMPT_FROM_VIEW_TESTS
    assert with_pages, "no scoped models found: the meta-test would prove nothing"
    assert with_pages <= _test_classes(ScopedViewTests)


def test_it_finds_api_scope_tests_for_every_model_in_the_api():
    in_api = {viewset.queryset.model._meta.label_lower for _prefix, viewset, _name in router.registry}
    in_api &= {m._meta.label_lower for m in _scoped_models()}
    in_api -= EXEMPT_FROM_VIEW_TESTS
    assert in_api <= _test_classes(ScopedAPITests)


def _imported_modules(app):
    root = Path(__file__).resolve().parent.parent / "epigrid" / app
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                yield path, node.module or ""
            elif isinstance(node, ast.Import):
                yield from ((path, alias.name) for alias in node.names)


def test_core_imports_no_app():
    for path, module in _imported_modules("core"):
        assert not module.startswith("epigrid.") or module.startswith("epigrid.core"), (path, module)


FOUNDATION = ("accounts", "areas", "people", "audit", "jobs")


def test_foundation_apps_never_import_an_operation_app():
    from django.apps import apps

    # Every epigrid app that is not core or a foundation app is an operation app (or the demo).
    operations = tuple(
        f"{config.name}"
        for config in apps.get_app_configs()
        if config.name.startswith("epigrid.") and config.name.split(".")[1] not in ("core", *FOUNDATION)
    )
    assert {"epigrid.control", "epigrid.testing", "epigrid.transport", "epigrid.results"} <= set(operations)
    for app in FOUNDATION:
        for path, module in _imported_modules(app):
            assert not module.startswith(operations), (path, module)
